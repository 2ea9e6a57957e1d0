"""Turn a raw document into clean blocks of text with their spans in the source file."""

from __future__ import annotations

import logging
import re
from array import array
from collections import Counter
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from qa_service.ingest.furniture import (
    is_byline,
    is_dateline,
    is_end_marker,
    is_photo_credit,
    is_sentence,
    is_widget,
)
from qa_service.ingest.metadata import find_date, find_title, parse_date
from qa_service.ingest.readers.base import RawDocument, json_safe
from qa_service.text import Span, join_spans, normalize_span

log = logging.getLogger(__name__)

_BLANK_LINE_RE = re.compile(r"\n[^\S\n]*\n\s*")  # \s also matches no-break spaces
_LINE_RE = re.compile(r"[^\n]+")
_MD_HEADING_RE = re.compile(r"^\s*(#{1,6}|>)\s+")
# Metadata fields a document has as its own; any other field is kept in its `metadata`.
_CORE_FIELDS = ("title", "source", "date", "url")
# Blocks shorter than this, and not sentences, are headings or page chrome.
_REAL_MIN_CHARS = 40


@dataclass
class Block:
    """A cleaned paragraph; `heading` marks a short title line inside the story."""

    span: Span
    heading: bool = False

    @property
    def text(self) -> str:
        return self.span.text


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


def clean_document(doc: RawDocument) -> CleanDocument:
    """Normalise a raw document, drop its page furniture and read its metadata.

    Markdown, PDF and Word documents arrive as text from their readers (blocks separated
    by blank lines) and are cleaned as plain text is.
    """
    meta = dict(doc.metadata)
    text = doc.raw
    one_block_per_line = False
    if doc.kind == "html":
        text, html_meta = _extract_html(doc)
        meta = {**html_meta, **{k: v for k, v in meta.items() if v}}
        one_block_per_line = True

    raw_blocks = _split_blocks(text, one_block_per_line)
    all_lines = [line.text for block in raw_blocks for line in block if line]

    title = str(meta.get("title") or "").strip() or find_title(all_lines)
    title = title or PurePosixPath(doc.doc_id).stem
    date = parse_date(meta.get("date")) or find_date(all_lines)
    source = str(meta.get("source") or meta.get("publisher") or meta.get("sitename") or "")
    url = meta.get("url") or None

    blocks = _drop_furniture(raw_blocks, title)
    if not blocks and doc.raw.strip():
        log.warning("%s: no text left after cleaning", doc.doc_id)
    return CleanDocument(
        doc_id=doc.doc_id,
        title=title,
        source=source or doc.default_source,
        date=date,
        url=str(url) if url else None,
        blocks=blocks,
        metadata=json_safe({k: v for k, v in doc.metadata.items()
                            if k not in _CORE_FIELDS and v not in (None, "", [], {})}),
    )


def _extract_html(doc: RawDocument) -> tuple[str, dict]:
    import trafilatura  # imported here: only HTML corpora pay for it

    text = trafilatura.extract(
        doc.raw, output_format="txt", include_comments=False, include_tables=True,
        include_links=False, include_images=False,
        deduplicate=False,  # its cache is process-wide: a second build would lose pages
    ) or ""
    meta = {}
    found = trafilatura.extract_metadata(doc.raw)
    if found is not None:
        meta = {
            "title": found.title, "date": found.date, "url": found.url,
            "sitename": found.sitename,
        }
    return text, {k: v for k, v in meta.items() if v}


def _split_blocks(text: str, one_block_per_line: bool) -> list[list[Span]]:
    """Split text into blocks (blank-line separated) of normalised lines."""
    blocks: list[list[Span]] = []
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
        if one_block_per_line:
            blocks.extend([line] for line in lines)
        elif lines:
            blocks.append(lines)
        pos = sep.end() if sep else len(text)
    return blocks


def _strip_markup(line: Span) -> Span:
    """Remove heading and quote markers."""
    keep = [True] * len(line.text)
    m = _MD_HEADING_RE.match(line.text)
    if m:
        keep[: m.end()] = [False] * m.end()
    if all(keep):
        return line
    chars = [c for c, k in zip(line.text, keep) if k]
    offsets = [o for o, k in zip(line.offsets, keep) if k]
    text = "".join(chars).strip()
    lead = len("".join(chars)) - len("".join(chars).lstrip())
    return Span(text, array("I", offsets[lead : lead + len(text)]))


def _drop_furniture(raw_blocks: list[list[Span]], title: str) -> list[Block]:
    """Keep the story: drop titles, bylines, credits, widgets, repeats and page chrome."""
    counts = Counter(line.text.casefold() for block in raw_blocks for line in block)
    title_key = title.casefold()

    def keep_line(line: Span) -> bool:
        key = line.text.casefold()
        return not (
            key == title_key
            or counts[key] > 1  # repeated captions, titles and widgets
            or is_byline(line.text)
            or is_dateline(line.text)
            or is_photo_credit(line.text)
        )

    blocks: list[Span] = []
    for lines in raw_blocks:
        kept = [line for line in lines if keep_line(line)]
        if kept:
            block = join_spans(kept, " ")
            if not is_widget(block.text) or is_end_marker(block.text):
                blocks.append(block)

    # A closing widget (agency credit, comment box) in the second half ends the story.
    total = sum(len(b.text) for b in blocks) or 1
    seen = 0
    for i, block in enumerate(blocks):
        if is_end_marker(block.text):
            if seen >= total / 2:
                blocks = blocks[:i]
                break
        seen += len(block.text)
    blocks = [b for b in blocks if not is_end_marker(b.text)]

    # Short non-sentences before the first and after the last real paragraph are page
    # chrome (section labels, navigation); between them they are headings.
    real = [
        i for i, b in enumerate(blocks)
        if is_sentence(b.text) and len(b.text) >= _REAL_MIN_CHARS
    ]
    if not real:
        return [Block(b) for b in blocks]
    first, last = real[0], real[-1]
    out = []
    for i, block in enumerate(blocks[first : last + 1], first):
        out.append(Block(block, heading=not is_sentence(block.text) and i not in real))
    return out
