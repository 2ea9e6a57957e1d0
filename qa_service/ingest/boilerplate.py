"""Find lines a source repeats across its documents (footers, standing notices).

Documents are cleaned one at a time, possibly in worker processes, so the repeats are
counted in a first, cheap pass over the raw documents and handed to cleaning as a set
of keys. A line is boilerplate when it is short and appears in at least MIN_DOCUMENTS
documents of its source and in at least MIN_SHARE of them. HTML is not counted: the
HTML extractor already drops a site's template, and counting would mean extracting
every page twice.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from pathlib import Path

from qa_service.ingest.readers import RawDocument, read_corpus
from qa_service.ingest.readers.sandbox import ReadLimits
from qa_service.text import normalize_span

MIN_DOCUMENTS = 3
MIN_SHARE = 0.5
MAX_LINE_CHARS = 300

_KEY_RE = re.compile(r"[\W_]+")


def line_key(text: str) -> str:
    """Return the key a line is counted under: its letters and digits, case folded."""
    return _KEY_RE.sub(" ", text.casefold()).strip()


def _lines(raw: RawDocument) -> set[str]:
    keys = set()
    for line in raw.raw.splitlines():
        if line.strip() and len(line) <= MAX_LINE_CHARS * 2:
            key = line_key(normalize_span(line).text)
            if key and len(key) <= MAX_LINE_CHARS:
                keys.add(key)
    return keys


def line_entry(raw: RawDocument) -> tuple[str, frozenset[str]]:
    """Return what a document adds to the count of repeated lines: its source and the keys
    of its short lines (none for HTML), which a build stores to count it again unread."""
    if raw.kind == "html":
        return _source(raw), frozenset()
    return _source(raw), frozenset(_lines(raw))


def repeated_lines(docs: Iterable[RawDocument],
                   stored: Mapping[str, tuple[str, frozenset[str]]] | None = None,
                   entry: Callable[[RawDocument], tuple[str, frozenset[str]]] = line_entry
                   ) -> frozenset[str]:
    """Return the keys of lines most documents of one source share.

    `stored`: doc_id -> line_entry for documents yielded `reused` (not read); `entry`:
    gives the line_entry of the others (a build engine may have read them elsewhere).
    """
    per_source: dict[str, Counter] = defaultdict(Counter)
    documents: Counter = Counter()
    for raw in docs:
        if raw.kind == "html":
            continue
        source, keys = stored[raw.doc_id] if raw.reused else entry(raw)
        documents[source] += 1
        per_source[source].update(keys)
    found = set()
    for source, counts in per_source.items():
        need = max(MIN_DOCUMENTS, MIN_SHARE * documents[source])
        found.update(key for key, n in counts.items() if n >= need)
    return frozenset(found)


# Formats counted: parsing PDF and Word files twice would double a build's reading (their
# readers drop running headers and footers themselves), and HTML loses its site template
# to the extractor.
REPEAT_KINDS = ("text", "markdown", "beir")


def corpus_repeated_lines(corpus: Path, max_file_bytes: int | None = None,
                          limits: ReadLimits | None = None,
                          unchanged: Mapping[str, tuple[str, str]] | None = None,
                          stored: Mapping[str, tuple[str, frozenset[str]]] | None = None,
                          walked: tuple | None = None,
                          read: Callable[..., Iterator[RawDocument]] = read_corpus,
                          entry: Callable[[RawDocument], tuple[str, frozenset[str]]]
                          = line_entry) -> frozenset[str]:
    """Count the lines each source of `corpus` repeats, in a first pass over its raw
    documents (quiet: the build's own pass warns about the files it leaves out, once).

    `unchanged` files (see read_corpus) are not read: `stored` holds their line entries.
    `read` and `entry`: read_corpus and line_entry, or a build engine's own.
    """
    readers = logging.getLogger("qa_service.ingest.readers")
    level = readers.level
    readers.setLevel(logging.ERROR)
    try:
        return repeated_lines(read(corpus, max_file_bytes, kinds=REPEAT_KINDS,
                                   limits=limits, unchanged=unchanged, walked=walked),
                              stored, entry)
    finally:
        readers.setLevel(level)


def present(raw: RawDocument, boilerplate: Collection[str]) -> list[str]:
    """Return the boilerplate keys that occur in `raw`, sorted."""
    if not boilerplate or raw.kind == "html":
        return []
    return sorted(_lines(raw).intersection(boilerplate))


def document_hash(digest: str, raw: RawDocument, boilerplate: Collection[str]) -> str:
    """Extend a content hash with the boilerplate lines found in the document.

    Whether a line is boilerplate depends on the other documents, so an unchanged
    document must be cleaned again when that changes; one without any keeps its hash.
    """
    return keyed_hash(digest, present(raw, boilerplate))


def keyed_hash(digest: str, found: Iterable[str]) -> str:
    """Return document_hash from a content hash and the boilerplate keys found, sorted."""
    found = list(found)
    if not found:
        return digest
    return hashlib.sha256("\n".join([digest, *found]).encode("utf-8")).hexdigest()


def _source(raw: RawDocument) -> str:
    meta = raw.metadata or {}
    return str(meta.get("source") or meta.get("publisher") or raw.default_source)
