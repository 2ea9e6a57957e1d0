"""Ingestion: corpus files -> clean, attributed passages."""

from qa_service.ingest.document import (
    INGEST_VERSION,
    Document,
    Passage,
    content_hash,
    ingest_document,
)
from qa_service.ingest.readers import (
    METADATA_FILE,
    CorpusFile,
    RawDocument,
    corpus_files,
    file_sha256,
    hashed_as_read,
    read_corpus,
)

__all__ = [
    "INGEST_VERSION", "METADATA_FILE", "CorpusFile", "Document", "Passage", "RawDocument",
    "content_hash", "corpus_files", "file_sha256", "hashed_as_read", "ingest_document",
    "read_corpus",
]
