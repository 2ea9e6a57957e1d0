"""Run queued jobs: one incremental build for every job waiting, then each file's outcome.

Writes that arrive during a build wait for the next one; a build runs only while no
other holds the index folder's lock (a `qa-service build`, another worker's runner), and
waits for it otherwise. The served index changes only when a build publishes.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from qa_service.config import Settings
from qa_service.errors import QAError
from qa_service.indexing import BuildBusy, BuildReport, build_index
from qa_service.store.passages import FILE as PASSAGES_FILE
from qa_service.writes.jobs import JobStore

log = logging.getLogger(__name__)

# How often a runner looks for jobs another process queued, and retries a busy lock.
POLL_SECONDS = 1.0


class JobRunner:
    """Run one collection's jobs in a thread of this process (started on first need)."""

    def __init__(self, settings: Settings, store: JobStore,
                 on_built: Callable[[], object] | None = None):
        self.settings = settings
        self.store = store
        self.on_built = on_built  # e.g. make the server serve the new version now
        self._encoder = None
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def wake(self) -> None:
        """Start the runner if it is not running, and have it look for jobs now."""
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="qa-jobs",
                                                daemon=True)
                self._thread.start()
        self._wake.set()

    def _loop(self) -> None:
        while True:
            self._wake.wait(POLL_SECONDS)
            self._wake.clear()
            try:
                while self.run_pending():
                    pass
            except Exception:  # the runner must outlive any surprise; jobs say failed
                log.exception("running jobs failed")

    def run_pending(self) -> bool:
        """Build once for every queued job; False if none was queued."""
        jobs = self.store.claim()
        if not jobs:
            return False
        log.info("building for %d job(s): %s", len(jobs), ", ".join(j["id"] for j in jobs))
        try:
            report = self._build()
        except QAError as exc:
            self._fail(jobs, exc.message)
            return True
        except Exception:
            log.exception("the build for jobs %s failed", ", ".join(j["id"] for j in jobs))
            self._fail(jobs, "the build failed; see the server's log")
            return True
        counts = _passage_counts(report.path / PASSAGES_FILE,
                                 {f["doc_id"] for j in jobs for f in j["files"]})
        if self.on_built is not None:
            # Served before the jobs say done: a client told "done" asks the new version.
            try:
                self.on_built()
            except Exception:  # the build is published; a worker's watcher serves it
                log.exception("serving the new build at once failed")
        for job in jobs:
            files = [_outcome(job["action"], f, counts, report) for f in job["files"]]
            self.store.finish(job["id"], files, report.path.name)
        return True

    def _build(self) -> BuildReport:
        from qa_service.encoders import encoder_for

        if self._encoder is None:
            # The build's own encoder: a server's question encoder runs another backend
            # (int8), whose vectors a build must not mix with the index's.
            self._encoder = encoder_for(self.settings.model)
        while True:
            try:
                return build_index(self.settings, self._encoder)
            except BuildBusy:
                time.sleep(POLL_SECONDS)  # another build: this one follows it

    def _fail(self, jobs: list[dict], message: str) -> None:
        for job in jobs:
            files = [{**f, "outcome": "failed"} for f in job["files"]]
            self.store.finish(job["id"], files, None, message)


def _passage_counts(path: Path, doc_ids: set[str]) -> dict[str, int]:
    """Return how many passages the built file holds for each of `doc_ids` it holds."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        found = {}
        for doc_id in doc_ids:
            row = db.execute("SELECT paragraphs FROM documents WHERE doc_id = ?",
                             (doc_id,)).fetchone()
            if row is not None:
                found[doc_id] = row[0]
        return found
    finally:
        db.close()


def _outcome(action: str, entry: dict, counts: dict[str, int], report: BuildReport) -> dict:
    """Say what became of one file of a job in the build that ran it."""
    doc_id = entry["doc_id"]
    out = {key: entry[key] for key in ("name", "doc_id") if key in entry}
    if action == "delete":
        if doc_id in counts:  # added again since: the later job says so
            return {**out, "outcome": "indexed", "passages": counts[doc_id],
                    "reason": "added again after the delete"}
        return {**out, "outcome": "removed"}
    if doc_id in counts:
        return {**out, "outcome": "indexed", "passages": counts[doc_id]}
    reason = report.skipped.files.get(doc_id)
    if reason is None:  # gone from the corpus before the build read it
        reason = "not in the corpus when the build read it (deleted since?)"
    return {**out, "outcome": "skipped", "reason": reason}
