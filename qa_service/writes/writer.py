"""Writes to one collection: store or remove files in its corpus, queue a job, report it."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from qa_service.config import Settings
from qa_service.errors import Conflict, InvalidInput, TooLarge
from qa_service.writes.corpus_edit import CorpusEditor
from qa_service.writes.jobs import JobStore
from qa_service.writes.names import check_metadata, check_new_name, existing_document
from qa_service.writes.runner import JobRunner

log = logging.getLogger(__name__)

# The longest a request may wait for its job (?wait=): past it, the job is still there.
MAX_WAIT_SECONDS = 300.0
_WAIT_STEP = 0.05
# Documents whose replacement may come as JSON text: their files are that text.
TEXT_SUFFIXES = (".txt", ".md", ".markdown")


@dataclass
class Upload:
    """One file of a write: its name, its bytes and metadata for it (None: none given)."""

    name: str
    data: bytes
    metadata: dict | None = None


class Writer:
    """Add, replace and remove one collection's documents, each write a job."""

    def __init__(self, settings: Settings, on_built: Callable[[], object] | None = None,
                 background: bool = True):
        """`background`: run jobs in a thread of this process (a server), or only when
        asked (`runner.run_pending()`, the command line)."""
        self.settings = settings
        self.background = background
        self.jobs = JobStore(settings.index_dir)
        self.runner = JobRunner(settings, self.jobs, on_built)
        if background and self.jobs.pending():  # queued before a restart: run them now
            self.runner.wake()

    def add(self, uploads: list[Upload], max_files: int | None = None) -> dict:
        """Store new documents and queue the job that indexes them; return the job."""
        editor = CorpusEditor(self.settings.corpus)
        if not uploads:
            raise InvalidInput("no file given: send one or more files")
        if max_files is not None and len(uploads) > max_files:
            raise InvalidInput(f"{len(uploads)} files in one request; at most {max_files}")
        seen: set[str] = set()
        for up in uploads:
            self._check(up)
            if up.name in seen:
                raise InvalidInput(f"file name {up.name[:80]!r} is given twice")
            seen.add(up.name)
            if (editor.corpus / up.name).exists():
                raise Conflict(f"a document {up.name!r} exists: replace it with PUT "
                               f"/api/documents/{up.name}, or choose another name")
        stored: list[str] = []
        try:
            for up in uploads:
                stored.append(editor.add(up.name, up.data, up.metadata or {}))
        except BaseException:
            for doc_id in stored:  # all or nothing: a request is one job
                editor.remove(doc_id)
            raise
        return self._queue("add", [{"name": up.name, "doc_id": up.name} for up in uploads])

    def replace(self, doc_id: str, upload: Upload) -> dict:
        """Replace document `doc_id`'s file and queue the job; return the job."""
        editor = CorpusEditor(self.settings.corpus)
        path = existing_document(editor.corpus, doc_id)
        self._check(upload, check_name=False)
        if not upload.name and path.suffix.lower() not in TEXT_SUFFIXES:
            raise InvalidInput(f"document {doc_id[:80]!r} is a {path.suffix} file: send its "
                               "replacement as a file (multipart), not as text")
        if upload.name and path.suffix.lower() != _suffix(upload.name):
            raise InvalidInput(f"document {doc_id[:80]!r} is a {path.suffix or 'plain'} "
                               f"file; its replacement must be one too, got {upload.name!r}")
        editor.replace(doc_id, upload.data, upload.metadata)
        return self._queue("replace", [{"name": upload.name or doc_id, "doc_id": doc_id}])

    def remove(self, doc_id: str) -> dict:
        """Remove document `doc_id` from the corpus and queue the job; return the job."""
        CorpusEditor(self.settings.corpus).remove(doc_id)
        return self._queue("delete", [{"doc_id": doc_id}])

    def job(self, job_id: str, wait: float = 0.0) -> dict:
        """Return job `job_id`, once it is done or failed or `wait` seconds have passed."""
        deadline = time.monotonic() + min(max(wait, 0.0), MAX_WAIT_SECONDS)
        while True:
            job = self.jobs.get(job_id)
            if job["state"] in ("done", "failed") or time.monotonic() >= deadline:
                return job
            time.sleep(_WAIT_STEP)

    def _queue(self, action: str, files: list[dict]) -> dict:
        job = self.jobs.create(action, files)
        log.info("job %s queued: %s %s", job["id"], action,
                 ", ".join(f["doc_id"] for f in files))
        if self.background:
            self.runner.wake()
        return job

    def _check(self, up: Upload, check_name: bool = True) -> None:
        if check_name:
            check_new_name(up.name)
        limit = self.settings.build.max_file_bytes
        if len(up.data) > limit:
            raise TooLarge(f"file {up.name[:80]!r} is {len(up.data)} bytes, over the limit "
                           f"of {limit} (QA_MAX_FILE_BYTES)")
        if not up.data.strip():
            raise InvalidInput(f"file {up.name[:80]!r} is empty")
        up.metadata = check_metadata(up.metadata, f"metadata of {up.name[:80]!r}") \
            if up.metadata is not None else None


def _suffix(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""
