"""A document and its passages: one raw document cleaned and cut into attributed passages."""

from __future__ import annotations

import hashlib
import json
import logging
from bisect import bisect_right
from collections.abc import Collection
from dataclasses import dataclass, field

from qa_service.ingest.chunk import TokenCounter, chunk_blocks
from qa_service.ingest.clean import clean_document
from qa_service.ingest.readers.base import RawDocument
from qa_service.text import approx_tokens

log = logging.getLogger(__name__)

# Bumped whenever cleaning or chunking changes what passages a corpus gives, so that
# indexes built by an older version are seen as stale.
INGEST_VERSION = 9


@dataclass
class Document:
    """A document's metadata as it is shown with every passage."""

    doc_id: str
    title: str
    source: str
    date: str | None
    url: str | None
    paragraphs: int = 0
    # Fields beyond title, source, date and url (author, tags, ...), JSON-serialisable.
    metadata: dict = field(default_factory=dict)
    # What cleaning removed, by rule ([characters, sentences]); for the build's report.
    cleaning: dict = field(default_factory=dict, compare=False, repr=False)


@dataclass
class Passage:
    """A paragraph of a cleaned document, with where it came from."""

    doc_id: str
    paragraph: int  # 1-based in the cleaned document
    start: int  # character span in the source text
    end: int
    text: str
    sentences: list[tuple[int, int]] = field(default_factory=list)
    page: int | None = None  # 1-based page the passage starts on (formats with pages)

    @property
    def id(self) -> str:
        """Stable id: document, paragraph and a hash of the text."""
        digest = hashlib.sha1(self.text.encode("utf-8")).hexdigest()[:10]
        return f"{self.doc_id}#{self.paragraph}-{digest}"


def ingest_document(
    raw: RawDocument,
    count_tokens: TokenCounter = approx_tokens,
    max_tokens: int = 256,
    min_chars: int = 60,
    boilerplate: Collection[str] = (),
) -> tuple[Document, list[Passage]]:
    """Clean and chunk one raw document into its passages (none: it has no text).

    `boilerplate`: keys of lines its source repeats (see ingest.boilerplate).
    """
    clean = clean_document(raw, boilerplate)
    chunks = chunk_blocks(clean.blocks, count_tokens, max_tokens, min_chars)
    passages = [
        Passage(clean.doc_id, n, c.span.start, c.span.end, c.span.text, c.sentences,
                page=bisect_right(raw.pages, c.span.start) if raw.pages else None)
        for n, c in enumerate(chunks, 1)
    ]
    if not passages:
        # An empty document would be listed with nothing to show or cite.
        log.warning("skipping %s: no text after cleaning", clean.doc_id)
    doc = Document(
        clean.doc_id, clean.title, clean.source, clean.date, clean.url, len(passages),
        clean.metadata, cleaning=dict(clean.removed),
    )
    return doc, passages


def content_hash(raw: RawDocument) -> str:
    """Return a hash of everything a document's passages are made from and show (text,
    metadata, page and table starts)."""
    parts = [raw.doc_id, raw.kind, raw.raw, raw.metadata, raw.default_source]
    # A PDF repaginated with the same text gives new page numbers; a table's start makes
    # its block. Added only when present: a document without them keeps the hash (and
    # the vectors) an older build recorded.
    if raw.pages or raw.tables:
        parts += [raw.pages, raw.tables]
    payload = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
