"""A build's per-file and per-document work, done where a build engine sends it.

A worker reads files (checks and parses them, readers.files) and later cleans and
chunks the documents the build asks for (ingest_document), with the same functions and
settings as a build in one process. What comes back is settled by the build in corpus
order, so skips, duplicates and warnings come out as they would have there: a worker's
warnings come back with its results, to be logged again by the build.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from qa_service.ingest.boilerplate import line_entry
from qa_service.ingest.document import Document, Passage, content_hash, ingest_document
from qa_service.ingest.readers import CorpusFile, Extracted, RawDocument, reader_for
from qa_service.ingest.readers.files import (
    Checked,
    Parsed,
    Skip,
    check_file,
    parse_file,
    raw_document,
)
from qa_service.ingest.readers.sandbox import ReadLimits

# What a build keys a document by: its content hash, its source, the keys of its short
# lines (ingest.boilerplate).
Facts = tuple[str, str, frozenset[str]]
# A warning as logged: logger name, level, message.
Logged = tuple[str, int, str]


def document_facts(raw: RawDocument) -> Facts:
    """Return a document's content hash and the entry it adds to the repeated-line count."""
    return (content_hash(raw), *line_entry(raw))


@dataclass
class FileRead:
    """What reading one file gave, less its bytes and text (those stay with the worker)."""

    checked: Checked
    skip: Skip | None = None  # left out when parsed
    facts: Facts | None = None  # None: no document
    warnings: list[Logged] = field(default_factory=list)  # logged while parsing

    def parsed(self) -> Parsed:
        """Log the warnings parsing gave, as if parsed here, and return its outcome: a
        text-less stand-in for the document (its facts say what the build needs)."""
        replay(self.warnings)
        return (Extracted(raw="") if self.skip is None else None), self.skip


def read_files(files: list[tuple[CorpusFile, dict]], default_source: str,
               max_file_bytes: int | None, limits: ReadLimits | None
               ) -> tuple[list[FileRead], list[RawDocument | None]]:
    """Read each (file, its sources.toml table) as read_corpus would, duplicates too (only
    the build knows which file came first); return what each gave and its document."""
    reads, raws = [], []
    for f, table in files:
        reader = reader_for(f.path)
        checked = check_file(f, reader, max_file_bytes)
        found = skip = raw = None
        with collected() as warnings:
            if checked.skip is None:
                found, skip = parse_file(f, reader, checked.data, checked.digest, limits)
            if found is not None:
                raw = raw_document(f, reader, found, table, default_source)
        checked.data = None  # the bytes are not sent back
        reads.append(FileRead(checked, skip, document_facts(raw) if raw else None,
                              warnings))
        raws.append(raw)
    return reads, raws


def ingest_documents(raws: list[RawDocument], count_tokens: Callable[[str], int],
                     max_tokens: int, min_chars: int, boilerplate: Collection[str]
                     ) -> list[tuple[tuple[Document, list[Passage]], list[Logged]]]:
    """Clean and chunk each document; return each result with the warnings it gave."""
    done = []
    for raw in raws:
        with collected() as warnings:
            result = ingest_document(raw, count_tokens, max_tokens, min_chars, boilerplate)
        done.append((result, warnings))
    return done


@contextmanager
def collected() -> Iterator[list[Logged]]:
    """Collect the warnings logged in the block (they are logged here as well)."""
    handler = _Collect()
    root = logging.getLogger()
    level = root.level
    # A worker process may log only errors; a warning must still reach the build.
    if root.getEffectiveLevel() > logging.WARNING:
        root.setLevel(logging.WARNING)
    root.addHandler(handler)
    try:
        yield handler.records
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def replay(warnings: list[Logged]) -> None:
    """Log warnings collected elsewhere, under their own loggers."""
    for name, level, message in warnings:
        logging.getLogger(name).log(level, "%s", message)


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.records: list[Logged] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.name, record.levelno, record.getMessage()))
