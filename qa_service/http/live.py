"""The service a server answers from, replaced whole when a build publishes a new index.

A request reads `LiveService.current` once and uses only that snapshot (index, encoder,
searcher), so every answer comes from one index. A swap replaces the reference; the old
snapshot stays usable by the requests that hold it and is closed by the garbage collector
after the last of them ends, its SQLite connections and its hold on the version folder
(see store/layout.py) with it.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from qa_service.config import Settings
from qa_service.errors import InvalidInput, QAError
from qa_service.service import Service
from qa_service.store import MANIFEST, resolve

log = logging.getLogger(__name__)


class LiveService:
    """Holds the current `Service` and swaps in the index that `current` names."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.current = Service.load(settings)
        self._stamp = _stamp(self.current.index.path)
        self._failed: object = None  # the stamp or error last reported, reported once
        self._lock = threading.Lock()
        self._wake = threading.Event()
        # Called with each service swapped in (metrics report the index served).
        self.listeners: list = []

    def request_reload(self) -> None:
        """Make the watcher check at once (safe in a signal handler: it only sets a flag)."""
        self._wake.set()

    def check(self, force: bool = False) -> bool:
        """Serve the index `current` names if it is not the one served; True on a swap.

        A build that cannot be loaded is reported once and not retried until it changes,
        or `force` (a SIGHUP) asks; meanwhile the index loaded before keeps serving.
        """
        with self._lock:
            try:
                stamp = _stamp(resolve(self.settings.index_dir))
            except (QAError, OSError) as exc:
                self._report(str(exc), f"still serving {self.current.index.path.name}: "
                                       f"cannot read {self.settings.index_dir} ({exc})")
                return False
            if stamp == self._stamp:
                self._failed = None
                return False
            if stamp == self._failed and not force:
                return False
            try:
                service = Service.load(self.settings, self.current.encoder)
            except QAError as exc:
                self._report(stamp, f"still serving {self.current.index.path.name}: "
                                    f"cannot load {stamp[0]} ({exc.message})", force)
                return False
            old, self.current = self.current, service
            self._stamp, self._failed = _stamp(service.index.path), None
            log.info("now serving index %s (was %s)", service.index.path.name,
                     old.index.path.name)
            for listener in self.listeners:
                listener(service)
            return True

    def watch(self) -> threading.Thread:
        """Check in a daemon thread every `reload_interval` seconds, and when asked."""
        interval = self.settings.serving.reload_interval
        if interval < 0:
            raise InvalidInput(f"reload_interval must be 0 or more seconds, got {interval}")
        thread = threading.Thread(target=self._watch, args=(interval or None,),
                                  name="qa-index-watch", daemon=True)
        thread.start()
        return thread

    def _watch(self, interval: float | None) -> None:
        while True:
            asked = self._wake.wait(interval)
            self._wake.clear()
            try:
                self.check(force=asked)
            except Exception:  # the watcher must outlive any surprise; the old index serves
                log.exception("checking for a new index failed")

    def _report(self, key: object, message: str, force: bool = False) -> None:
        if key != self._failed or force:
            log.error(message)
        self._failed = key


def _stamp(folder: Path) -> tuple[str, int, int]:
    """Identify a loaded build: its folder and its manifest's inode and mtime."""
    stat = (Path(folder) / MANIFEST).stat()
    return str(folder), stat.st_ino, stat.st_mtime_ns
