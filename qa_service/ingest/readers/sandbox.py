"""Parse untrusted files in a child process with a memory limit and a time limit.

The bounds of readers/limits.py stop the bombs they foresee; this stops the rest. A
reader runs in a persistent child Python, started on the first file that needs it and
reused for the next ones: its address space is capped (RLIMIT_AS), and a file it has not
read within the time limit is skipped and the child killed and started again on the next
file. Only the child dies, and the build goes on.

Plain text and HTML readers only decode bytes (bounded by QA_MAX_FILE_BYTES; HTML's
extraction, in cleaning, by the counts of readers/html.py), so they run here and pay
nothing. Every other format (Markdown's YAML and parser, PDF, Word) pays a round trip
per file, ~0.2 ms: on a 2-core AMD EPYC (no AMX), 1,000 small files, half Markdown,
read in 0.15 s here and 0.25 s with the child, plus 0.15 s once to start it
(benchmarks/read_sandbox.py). That is the price of every format whose parser a file can
drive; no size threshold is safe (a 539-byte front matter or a 1 MB PDF was a bomb), so
none is used.
"""

from __future__ import annotations

import atexit
import errno
import logging
import os
import pickle
import resource
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

from qa_service.ingest.readers.base import Extracted, Reader, UnreadableError
from qa_service.ingest.readers.limits import OverLimitError

log = logging.getLogger(__name__)

# Seconds a new child has to import the readers and say it is ready: far over its ~0.15 s.
START_TIMEOUT = 60.0
_HEADER = struct.Struct("!Q")  # each message: its length, then a pickle
_CHILD = "from qa_service.ingest.readers.sandbox import serve; serve()"


@dataclass(frozen=True)
class ReadLimits:
    """How long (seconds) and how much memory (MB of address space) one file's reading
    may take; 0 is no limit, and both 0 read in this process."""

    timeout: float = 0.0
    memory_mb: int = 0

    @classmethod
    def from_settings(cls, build) -> ReadLimits:
        """Return the limits of a BuildSettings (QA_READ_TIMEOUT, QA_READ_MEMORY_MB)."""
        return cls(float(build.read_timeout), int(build.read_memory_mb))

    @property
    def active(self) -> bool:
        return self.timeout > 0 or self.memory_mb > 0


class Sandbox:
    """A child process that reads files under `limits`, replaced when it dies or stalls."""

    def __init__(self, limits: ReadLimits):
        self.limits = limits
        self.proc: subprocess.Popen | None = None
        self.lock = threading.Lock()
        self.refused: dict[str, str] = {}  # content hash -> the limit it ran past
        self.ran_past = (f"reading took over {limits.timeout:g} s (QA_READ_TIMEOUT)",
                         f"reading needed over {limits.memory_mb:,} MB of memory "
                         "(QA_READ_MEMORY_MB)")

    def read(self, reader: Reader, data: bytes, name: str, key: str | None = None
             ) -> Extracted:
        """Return reader.read(data, name) as the child computed it; raise as it raised,
        or OverLimitError when it ran past a limit.

        `key`: the content's hash; content that ran past a limit once is refused at once
        (a build reads Markdown twice: the second read would wait out the time again).
        """
        if key is not None and key in self.refused:
            raise OverLimitError(self.refused[key])
        try:
            return self._read(reader, data, name)
        except OverLimitError as exc:
            if key is not None and exc.args and exc.args[0] in self.ran_past:
                self.refused[key] = exc.args[0]
            raise

    def _read(self, reader: Reader, data: bytes, name: str) -> Extracted:
        with self.lock:
            proc = self._child()
            try:
                _send(proc.stdin, (reader, data, name))
            except (BrokenPipeError, OSError):  # it died since the last file: once more
                self._stop()
                proc = self._child()
                _send(proc.stdin, (reader, data, name))
            deadline = time.monotonic() + self.limits.timeout if self.limits.timeout else None
            try:
                kind, value, records = _receive(proc.stdout.fileno(), deadline)
            except TimeoutError:
                self._stop()
                raise OverLimitError(self.ran_past[0]) from None
            except EOFError:
                code = self._stop()
                raise UnreadableError(f"the reading process died ({_exit_reason(code)})"
                                      ) from None
        for logger, level, message in records:  # the reader's warnings, as if read here
            logging.getLogger(logger).log(level, "%s", message)
        if kind == "ok":
            return value
        if kind == "memory":
            self._stop()  # a C library may be left in a bad state: a fresh child next
            raise OverLimitError(self.ran_past[1])
        if kind == "over":
            raise OverLimitError(value)
        raise UnreadableError(value)

    def close(self) -> None:
        """Stop the child, if one runs."""
        with self.lock:
            self._stop()

    def _child(self) -> subprocess.Popen:
        if self.proc is not None and self.proc.poll() is None:
            return self.proc
        self._stop()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        # stderr is the build's own: a crash's traceback shows where the build's does.
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(self.limits.memory_mb)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, close_fds=True)
        try:
            _receive(self.proc.stdout.fileno(), time.monotonic() + START_TIMEOUT)
        except (TimeoutError, EOFError):
            code = self._stop()
            raise RuntimeError("the reading process did not start "
                               f"({_exit_reason(code)})") from None
        return self.proc

    def _stop(self) -> int | None:
        proc, self.proc = self.proc, None
        if proc is None:
            return None
        if proc.poll() is None:
            proc.kill()
        for pipe in (proc.stdin, proc.stdout):
            try:
                pipe.close()
            except OSError:
                pass
        return proc.wait()


_shared: dict[ReadLimits, Sandbox] = {}
_shared_lock = threading.Lock()


def shared_sandbox(limits: ReadLimits) -> Sandbox:
    """Return the process's sandbox for `limits`: one child serves every corpus pass
    (a build reads Markdown twice), stopped when the process exits."""
    with _shared_lock:
        if limits not in _shared:
            if not _shared:
                atexit.register(_close_all)
            _shared[limits] = Sandbox(limits)
        return _shared[limits]


def _close_all() -> None:
    for sandbox in list(_shared.values()):
        sandbox.close()


def _exit_reason(code: int | None) -> str:
    if code is None:
        return "no exit status"
    if code < 0:
        try:
            return signal.Signals(-code).name
        except ValueError:
            return f"signal {-code}"
    return f"exit status {code}"


def _send(pipe, message) -> None:
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    pipe.write(_HEADER.pack(len(payload)) + payload)
    pipe.flush()


def _receive(fd: int, deadline: float | None):
    (size,) = _HEADER.unpack(_read_exact(fd, _HEADER.size, deadline))
    return pickle.loads(_read_exact(fd, size, deadline))


def _read_exact(fd: int, size: int, deadline: float | None) -> bytes:
    parts, left = [], size
    while left:
        if deadline is not None:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([fd], [], [], wait)[0]:
                raise TimeoutError
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


class _Collect(logging.Handler):
    """Keep the warnings a reader logs, to be logged again in the parent."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.records: list[tuple[str, int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.name, record.levelno, record.getMessage()))


def serve() -> None:
    """Run as the child: cap the address space, then read each file sent until EOF."""
    memory_mb = int(sys.argv[1])
    # The channel is fd 1; anything a library prints goes to stderr instead.
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    stdin = sys.stdin.buffer
    # Every reader imported once, before the limit (a few MB; the parsers load lazily).
    from qa_service.ingest.readers.registry import READERS  # noqa: F401

    if memory_mb:
        limit = memory_mb << 20
        resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(
            resource.RLIMIT_AS)[1]))
    collect = _Collect()
    logging.getLogger().addHandler(collect)
    _send(out, ("ready", None, []))
    while True:
        try:
            header = stdin.read(_HEADER.size)
            if len(header) < _HEADER.size:
                return
            reader, data, name = pickle.loads(stdin.read(_HEADER.unpack(header)[0]))
        except EOFError:
            return
        collect.records = []
        try:
            reply = ("ok", reader.read(data, name))
        except MemoryError:
            reply = ("memory", None)
        except OSError as exc:  # mmap and C libraries say so with ENOMEM instead
            reply = ("memory", None) if exc.errno == errno.ENOMEM else (
                "unreadable", f"{type(exc).__name__}: {exc}")
        except OverLimitError as exc:
            reply = ("over", str(exc))
        except UnreadableError as exc:
            reply = ("unreadable", str(exc))
        except Exception as exc:  # noqa: BLE001  (reported as files.parse_file does)
            detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            reply = ("unreadable", f"{type(exc).__name__}: {detail}")
        del data
        try:
            _send(out, (*reply, collect.records))
        except MemoryError:
            _send(out, ("memory", None, []))
