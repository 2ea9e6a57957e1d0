"""Writes: documents added, replaced and removed in a corpus folder, each indexed by a job."""

from qa_service.writes.corpus_edit import CorpusEditor
from qa_service.writes.jobs import JobStore
from qa_service.writes.runner import JobRunner
from qa_service.writes.writer import MAX_WAIT_SECONDS, Upload, Writer

__all__ = ["MAX_WAIT_SECONDS", "CorpusEditor", "JobRunner", "JobStore", "Upload", "Writer"]
