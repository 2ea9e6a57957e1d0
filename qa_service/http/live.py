"""The service a server answers from, replaced whole when a build publishes a new index.

A request reads `LiveService.current` once and uses only that snapshot (index, encoder,
searcher), so every answer comes from one index. A swap replaces the reference; the old
snapshot stays usable by the requests that hold it and is closed by the garbage collector
after the last of them ends, its SQLite connections and its hold on the version folder
(see store/layout.py) with it.

A server whose index is missing or damaged still starts: it answers 503 saying why, and
the watcher serves the next build that loads. (A worker that failed to boot instead
would make gunicorn stop the whole server.)
"""

from __future__ import annotations

import gc
import logging
import threading
from pathlib import Path

from qa_service.config import Settings
from qa_service.errors import IndexCorrupt, IndexMissing, InvalidInput, QAError
from qa_service.service import Service
from qa_service.store import MANIFEST, resolve

log = logging.getLogger(__name__)


class LiveService:
    """Holds the current `Service` and swaps in the index that `current` names."""

    def __init__(self, settings: Settings, encoders: dict | None = None):
        """`encoders`: model name -> encoder, shared by the collections of one process so
        that each model loads once."""
        self.settings = settings
        self.encoders = {} if encoders is None else encoders
        self.current: Service | None = None  # None: no index could be loaded yet
        self.error: QAError | None = None  # why none is served (None while one is)
        self._stamp: tuple | None = None
        self._failed: object = None  # the stamp or error last reported, reported once
        self._lock = threading.Lock()
        self._wake = threading.Event()
        # Called with each service swapped in (metrics report the index served).
        self.listeners: list = []
        self.check()

    def serving(self) -> Service:
        """Return the service to answer from, or raise why there is none (a 503).

        The served index's files are checked against the manifest first: a file truncated
        under the server is reported instead of read (see Index.check).
        """
        service, error = self.current, self.error
        if service is None:
            raise type(error)(error.message) if error else IndexMissing("no index is loaded")
        service.index.check()
        return service

    def _served(self) -> str:
        if self.current is None:
            return "serving no index"
        return f"still serving {self.current.index.path.name}"

    def request_reload(self) -> None:
        """Make the watcher check at once (safe in a signal handler: it only sets a flag)."""
        self._wake.set()

    def check(self, force: bool = False) -> bool:
        """Serve the index `current` names if it is not the one served; True on a swap.

        A build that cannot be loaded is reported once and not retried until it changes,
        or `force` (a SIGHUP) asks; meanwhile the index loaded before keeps serving, or,
        with none loaded, requests are answered 503 with `error`.
        """
        with self._lock:
            try:
                stamp = _stamp(resolve(self.settings.index_dir))
            except (QAError, OSError) as exc:
                if self.current is None:
                    self.error = _public(exc)
                self._report(str(exc), f"{self._served()}: cannot read "
                                       f"{self.settings.index_dir} ({exc})")
                return False
            if stamp == self._stamp:
                self._failed = None
                return False
            if stamp == self._failed and not force:
                return False
            old = self.current
            hint = old.encoder if old else next(iter(self.encoders.values()), None)
            try:
                service = Service.load(self.settings, hint)
            except Exception as exc:  # whatever is wrong with a build, the server stays up
                if not isinstance(exc, QAError):
                    log.exception("loading %s failed", stamp[0])
                    exc = IndexCorrupt("the index cannot be loaded; see the server's log")
                if old is None:
                    self.error = _public(exc)
                self._report(stamp, f"{self._served()}: cannot load {stamp[0]} "
                                    f"({exc.message})", force)
                return False
            self.current, self.error = service, None
            self.encoders.setdefault(service.encoder.name, service.encoder)
            self._stamp, self._failed = _stamp(service.index.path), None
            _settle()
            log.info("now serving index %s (was %s)", service.index.path.name,
                     old.index.path.name if old else "none")
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


def _settle() -> None:
    """Keep what is loaded out of the garbage collector's generations from now on.

    The model and index are some 140,000 objects that live as long as the worker; a
    collection walked them all each time a question's garbage set one off (1.2 ms a
    question on 10k passages, 0.5 ms frozen). The build served before is collected first:
    frozen, it would never be.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def _stamp(folder: Path) -> tuple[str, int, int]:
    """Identify a loaded build: its folder and its manifest's inode and mtime."""
    stat = (Path(folder) / MANIFEST).stat()
    return str(folder), stat.st_ino, stat.st_mtime_ns


def _public(exc: Exception) -> QAError:
    """Return why no index is served, as a client may read it (no server paths)."""
    if isinstance(exc, IndexCorrupt):
        return exc  # its messages name files by version (store.names)
    if isinstance(exc, IndexMissing):
        return IndexMissing("no index has been built yet: run `qa-service build`")
    if isinstance(exc, QAError):  # a model that cannot load: the details are in the log
        return type(exc)(f"the index cannot be served ({exc.code}); see the server's log")
    return IndexMissing("the index folder cannot be read; see the server's log")
