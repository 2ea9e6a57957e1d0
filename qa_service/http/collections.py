"""The collections one server serves: a live service (and, on demand, a writer) each."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from flask import g, has_request_context

from qa_service.collections import Collection, choose, collections
from qa_service.config import Settings
from qa_service.errors import QAError
from qa_service.http.live import LiveService
from qa_service.writes import Writer
from qa_service.writes.jobs import FILE as JOBS_FILE


class Collections:
    """Every configured collection's LiveService, by name; the default first."""

    def __init__(self, settings: Settings):
        self.found: list[Collection] = collections(settings)
        encoders: dict = {}  # one encoder per model, whichever collections use it
        self.live = {c.name: LiveService(c.settings, encoders) for c in self.found}
        self._writers: dict[str, Writer] = {}
        # Called after a job's build is served here: a server tells its other workers.
        self.notify: Callable[[], object] | None = None
        self._lock = threading.Lock()
        for c in self.found:
            if (Path(c.settings.index_dir) / JOBS_FILE).exists():
                # Jobs cut off by a stop are marked failed, and those queued run, now.
                self.writer(c.name)

    @property
    def default(self) -> LiveService:
        return self.live[self.found[0].name]

    def name_of(self, name: str | None) -> str:
        """Return the name a request's `collection` (None: the default) stands for; with
        several collections, the request's log line names it."""
        found = choose(self.found, name).name
        if len(self.found) > 1 and has_request_context():
            g.collection = found
        return found

    def get(self, name: str | None) -> LiveService:
        """Return the live service of collection `name` (None: the default), or NotFound."""
        return self.live[self.name_of(name)]

    def writer(self, name: str | None) -> Writer:
        """Return the writer of collection `name`, made on first use."""
        name = self.name_of(name)
        with self._lock:
            if name not in self._writers:
                live = self.live[name]
                self._writers[name] = Writer(live.settings,
                                             on_built=lambda: self._built(live))
            return self._writers[name]

    def _built(self, live: LiveService) -> None:
        """Serve a collection's new build here now, and have the other workers check."""
        live.check()
        if self.notify is not None:
            self.notify()

    def watch(self) -> None:
        """Follow new builds of every collection (a daemon thread each)."""
        for live in self.live.values():
            live.watch()

    def request_reload(self) -> None:
        """Make every collection check for a new build now (safe in a signal handler)."""
        for live in self.live.values():
            live.request_reload()

    def summary(self) -> list[dict]:
        """Describe each collection: name, size, model, version and when it was built."""
        out = []
        for c in self.found:
            entry = {"name": c.name, "default": c is self.found[0], "documents": None,
                     "passages": None, "model": None, "version": None, "built_at": None,
                     "status": "ok"}
            try:
                health = self.live[c.name].serving().health()
            except QAError as exc:
                entry.update(status="unavailable", error=exc.message)
            else:
                entry.update(documents=health["documents"], passages=health["passages"],
                             model=health["model"], version=health["index"]["version"],
                             built_at=health["index"]["built_at"])
            out.append(entry)
        return out
