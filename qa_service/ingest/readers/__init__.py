"""Readers: one module per file format, and the corpus walk that picks among them."""

from qa_service.ingest.readers.base import (
    CorpusFile,
    Extracted,
    RawDocument,
    Reader,
    Skips,
    UnreadableError,
    file_sha256,
)
from qa_service.ingest.readers.corpus import (
    METADATA_FILE,
    corpus_files,
    hashed_as_read,
    read_corpus,
    reading_total,
)
from qa_service.ingest.readers.registry import READERS, SUFFIXES, reader_for

__all__ = [
    "METADATA_FILE", "READERS", "SUFFIXES", "CorpusFile", "Extracted", "RawDocument",
    "Reader", "Skips", "UnreadableError", "corpus_files", "file_sha256", "hashed_as_read",
    "read_corpus", "reader_for", "reading_total",
]
