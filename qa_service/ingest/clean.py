"""Turn a raw document into clean blocks of text with their spans in the source file."""

from __future__ import annotations

import logging
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from qa_service.ingest.metadata import find_date, find_title, parse_date
from qa_service.ingest.readers.base import RawDocument, json_safe
from qa_service.ingest.readers.tables import mark_html_tables, starts_within, unmark_tables
from qa_service.ingest.story import Block, Tally, keep_story
from qa_service.text import Span, normalize_span, slice_span

log = logging.getLogger(__name__)

_BLANK_LINE_RE = re.compile(r"\n[^\S\n]*\n\s*")  # \s also matches no-break spaces
_LINE_RE = re.compile(r"[^\n]+")
_MD_HEADING_RE = re.compile(r"^\s*(#{1,6}|>)\s+")
# Metadata fields a document has as its own (sitename: HTML's source); any other field is
# kept in its `metadata`.
# Kinds that come from web pages, with their chrome; authored files (Markdown, PDF, Word)
# are not judged by the furniture classifier.
SCRAPED_KINDS = ("text", "html", "beir")
TITLE_GUESSED_KINDS = (*SCRAPED_KINDS, "pdf")  # a PDF's first short line is its title
_CORE_FIELDS = ("title", "source", "date", "url", "sitename")

__all__ = ["Block", "CleanDocument", "clean_document"]


@dataclass
class CleanDocument:
    """A document's metadata and its cleaned blocks, in order."""

    doc_id: str
    title: str
    source: str
    date: str | None
    url: str | None
    blocks: list[Block]
    metadata: dict = field(default_factory=dict)  # fields beyond title, source, date, url
    removed: Tally = field(default_factory=Tally)  # by rule: [characters, sentences]


def clean_document(doc: RawDocument, boilerplate: Collection[str] = ()) -> CleanDocument:
    """Normalise a raw document, drop its page furniture and read its metadata.

    Markdown, PDF and Word documents arrive as text from their readers (blocks separated
    by blank lines) and are cleaned as plain text is. `boilerplate`: keys
    (boilerplate.line_key) of lines its source repeats in most documents.
    """
    meta = dict(doc.metadata)
    text, tables = doc.raw, doc.tables or []
    one_block_per_line = False
    if doc.kind == "html":
        text, tables, html_meta = _extract_html(doc)
        meta = {**html_meta, **{k: v for k, v in meta.items() if v}}
        one_block_per_line = True

    raw_blocks, table_blocks = _split_blocks(text, one_block_per_line, tables)
    all_lines = [line.text for block in raw_blocks for line in block if line]

    # Authored files name their title (properties, front matter, a heading: see their
    # readers); guessing it from their lines would take a table row or a list item.
    guess = find_title(all_lines) if doc.kind in TITLE_GUESSED_KINDS else None
    title = str(meta.get("title") or "").strip() or guess
    title = title or PurePosixPath(doc.doc_id).stem
    date = parse_date(meta.get("date")) or find_date(all_lines)
    # One rule for every format (docs/architecture.md, Metadata): sources.toml's
    # `source` (merged over the document's own fields by read_corpus), else the
    # document's own publisher (front matter `source` or `publisher`, a page's site
    # name), else the corpus folder's name. An author is no publisher: kept as `author`.
    source = str(meta.get("source") or meta.get("publisher") or meta.get("sitename") or "")
    url = meta.get("url") or None

    blocks, removed = keep_story(raw_blocks, title, boilerplate,
                                 classify=doc.kind in SCRAPED_KINDS, tables=table_blocks)
    if not blocks and doc.raw.strip():
        log.warning("%s: no text left after cleaning", doc.doc_id)
    return CleanDocument(
        doc_id=doc.doc_id,
        title=title,
        source=source or doc.default_source,
        date=date,
        url=str(url) if url else None,
        blocks=blocks,
        metadata=json_safe({k: v for k, v in meta.items()
                            if k not in _CORE_FIELDS and v not in (None, "", [], {})}),
        removed=removed,
    )


def _extract_html(doc: RawDocument) -> tuple[str, list[int], dict]:
    """Return the page's text, where its data tables start in it, and its metadata."""
    import trafilatura  # imported here: only HTML corpora pay for it

    tree, marker = mark_html_tables(doc.raw)
    text = trafilatura.extract(
        doc.raw if tree is None else tree, output_format="txt", include_comments=False,
        include_tables=True, include_links=False, include_images=False,
        deduplicate=False,  # its cache is process-wide: a second build would lose pages
    ) or ""
    tables: list[int] = []
    if marker:
        text, tables = unmark_tables(text, marker)
    meta = {}
    found = trafilatura.extract_metadata(doc.raw)
    if found is not None:
        meta = {
            "title": found.title, "date": found.date, "url": found.url,
            "sitename": found.sitename, "author": found.author,
        }
    return text, tables, {k: v for k, v in meta.items() if v}


def _split_blocks(text: str, one_block_per_line: bool, tables: list[int]
                  ) -> tuple[list[list[Span]], set[int]]:
    """Split text into blocks (blank-line separated) of normalised lines.

    Return them and the indexes of those that are tables (starting at one of `tables`),
    whose lines stay one block even when each line is a block of its own.
    """
    blocks: list[list[Span]] = []
    table_blocks: set[int] = set()
    pos = 0
    separators = list(_BLANK_LINE_RE.finditer(text)) + [None]
    for sep in separators:
        end = sep.start() if sep else len(text)
        lines = []
        for m in _LINE_RE.finditer(text, pos, end):
            line = normalize_span(m.group(0), m.start())
            line = _strip_markup(line)
            if line:
                lines.append(line)
        if lines and starts_within(tables, pos, end):
            table_blocks.add(len(blocks))
            blocks.append(lines)
        elif one_block_per_line:
            blocks.extend([line] for line in lines)
        elif lines:
            blocks.append(lines)
        pos = sep.end() if sep else len(text)
    return blocks, table_blocks


def _strip_markup(line: Span) -> Span:
    """Remove heading and quote markers."""
    m = _MD_HEADING_RE.match(line.text)
    return slice_span(line, m.end(), len(line.text)) if m else line
