"""Show how far a long step is: a tqdm bar on a terminal, else a plain line now and then.

A bar redraws itself with carriage returns, which a log file keeps as one endless line,
so when stderr is not a terminal (CI, a background job, output sent to a file) a step
prints a line at most every INTERVAL_S seconds and one at the end instead, e.g.
`Embedding: 2,000/9,069 passages (22%), 41 s elapsed, about 2 min 25 s left`.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from typing import IO, TypeVar

log = logging.getLogger(__name__)

# Often enough that a log shows a build moving, seldom enough that a long one stays short.
INTERVAL_S = 10.0

T = TypeVar("T")


class Progress:
    """Count the items of a step done out of `total` and show the count on stderr.

    `update(n)` counts n more done; `close()` (or leaving a `with` block) ends the step.
    A bar is drawn when the stream is a terminal (or `bar` says so); else a line is
    printed at most every `interval` seconds by `clock`, and one when the step ends
    without an error. A step of no items shows nothing.
    """

    def __init__(self, total: int, what: str, unit: str, *, stream: IO[str] | None = None,
                 bar: bool | None = None, interval: float | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.total, self.what, self.unit = total, what, unit
        # Looked up now, not at import: a test runner or a caller may have swapped stderr.
        self.stream = sys.stderr if stream is None else stream
        self.interval = INTERVAL_S if interval is None else interval
        self.clock = clock
        self.done = 0
        self.started = self._shown = clock()
        self._closed = False
        self._bar = None
        if total and (is_terminal(self.stream) if bar is None else bar):
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=what, unit=f" {unit}", file=self.stream)

    def update(self, n: int = 1) -> None:
        """Count `n` more items done."""
        self.done += n
        # More than counted up front (files added since): the total grows, never past 100%.
        # A total of 0 stays 0: such a step shows nothing (the caller's way to say "quiet").
        if self.total:
            self.total = max(self.total, self.done)
        if self._bar is not None:
            self._bar.update(n)
            return
        now = self.clock()
        # The last line is close()'s: it says how long the whole step took.
        if self.done < self.total and now - self._shown >= self.interval:
            self._shown = now
            self._print(self.line(now))

    def line(self, now: float | None = None) -> str:
        """Return the plain line for the count so far."""
        now = self.clock() if now is None else now
        elapsed = now - self.started
        share = self.done * 100 // self.total if self.total else 100
        head = f"{self.what}: {self.done:,}/{self.total:,} {self.unit} ({share}%)"
        # A step closed short of its total (files removed since they were counted) is done.
        if self.done >= self.total or self._closed:
            return f"{head}, done in {duration(elapsed)}"
        if not self.done:
            return f"{head}, {duration(elapsed)} elapsed"
        left = elapsed / self.done * (self.total - self.done)
        return f"{head}, {duration(elapsed)} elapsed, about {duration(left)} left"

    def close(self, finished: bool = True) -> None:
        """End the step: close the bar, or print the last line if it finished."""
        if self._closed:
            return
        self._closed = True
        if self._bar is not None:
            self._bar.close()
        elif finished and self.total:
            self._print(self.line())

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, kind, value, traceback) -> None:
        # A step that failed says nothing more: a count with time left would mislead.
        self.close(finished=kind is None)

    def _print(self, text: str) -> None:
        # Flushed at once: whoever tails a log should see the line when it is made.
        print(text, file=self.stream, flush=True)


def tracked(items: Iterable[T], total: int, what: str, unit: str, **options) -> Iterator[T]:
    """Yield `items`, counting each one done in a Progress of `total` (options: Progress's)."""
    with Progress(total, what, unit, **options) as progress:
        for item in items:
            yield item
            progress.update()


def is_terminal(stream) -> bool:
    """Say whether `stream` is a terminal (a closed or odd stream is not)."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def duration(seconds: float) -> str:
    """Return a span of time as people read it: `41 s`, `2 min 25 s`, `1 h 5 min`."""
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60} s"
    return f"{whole // 3600} h {whole % 3600 // 60} min"
