"""Cut cleaned blocks into passages: headings joined to their text, short fragments
merged with a neighbour, long paragraphs split at sentence boundaries."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from functools import lru_cache

from qa_service.ingest.clean import Block
from qa_service.ingest.pysbd_patterns import install as cache_pysbd_patterns
from qa_service.text import Span, approx_tokens, join_spans, slice_span

TokenCounter = Callable[[str], int]


@dataclass
class Chunk:
    """A passage's text, source span and sentence offsets (within the text)."""

    span: Span
    sentences: list[tuple[int, int]]


@lru_cache(maxsize=1)
def _segmenter():
    import pysbd

    segmenter = pysbd.Segmenter(language="en", clean=False, char_span=False)
    cache_pysbd_patterns()  # after the Segmenter: every module it uses is loaded
    return segmenter


# pysbd takes time quadratic in the length of what it is given (it looks every sentence
# up again from the start), so longer lines go to it in pieces of about this size.
SEGMENT_CHARS = 5000
_PIECE_END_RE = re.compile(r"[.!?][\"')\]]*\s+")


def split_sentences(text: str, whole_lines: Collection[str] = ()) -> list[tuple[int, int]]:
    """Return (start, end) offsets of the sentences of `text`, lines never crossing.

    A line in `whole_lines` (a table's row) is one sentence: pysbd would cut a row after
    a number or an abbreviation ('Room: 4. Name: ...' reads to it as a list item).
    """
    spans: list[tuple[int, int]] = []
    line_start = 0
    for whole in text.split("\n"):
        if whole.strip() and whole.strip() in whole_lines:
            lead = len(whole) - len(whole.lstrip())
            spans.append((line_start + lead, line_start + lead + len(whole.strip())))
            line_start += len(whole) + 1
            continue
        for piece_start, line in _pieces(whole):
            spans += [(line_start + piece_start + s, line_start + piece_start + e)
                      for s, e in _segment_line(line)]
        line_start += len(whole) + 1
    return spans


def _pieces(line: str) -> list[tuple[int, str]]:
    """Cut a long line after a sentence end (or a space) near every SEGMENT_CHARS."""
    pieces, start = [], 0
    while len(line) - start > SEGMENT_CHARS:
        window = line[start : start + SEGMENT_CHARS]
        ends = [m.end() for m in _PIECE_END_RE.finditer(window, SEGMENT_CHARS // 2)]
        cut = ends[-1] if ends else (window.rfind(" ", SEGMENT_CHARS // 2) + 1
                                     or SEGMENT_CHARS)
        pieces.append((start, line[start : start + cut]))
        start += cut
    pieces.append((start, line[start:]))
    return pieces


def _pysbd_sentences(text: str) -> list[str]:
    """Return pysbd's sentences of `text` as `Segmenter.segment` does (clean=False)."""
    # segment() finds each sentence again in the text with a regular expression made of
    # it (`re.escape(sent) + r"\s*"`), compiled anew for every sentence: half of pysbd's
    # time on long texts (4.1 of 8.1 s for 200 SciFact abstracts). The same search, with
    # str.find: the first occurrence, with its trailing whitespace, ending past the last.
    found, prior_end = [], 0
    for sent in _segmenter().processor(text).process():
        pos = 0
        while (at := text.find(sent, pos)) >= 0:
            end = at + len(sent)
            while end < len(text) and text[end].isspace():  # re's \s, str.isspace alike
                end += 1
            if end > prior_end:
                found.append(text[at:end])
                prior_end = end
                break
            pos = end if end > at else at + 1  # re.finditer's next search
    return found


def _segment_line(line: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    cursor = 0
    for sent in _pysbd_sentences(line) if line.strip() else []:
        piece = sent.strip()
        if not piece:
            continue
        at = line.find(piece, cursor)
        if at < 0:  # the segmenter altered the text; fall back to the rest of the line
            at, piece = cursor, line[cursor:].strip()
            if not piece:
                break
            at = line.find(piece, cursor)
        spans.append((at, at + len(piece)))
        cursor = at + len(piece)
    return spans


def chunk_blocks(
    blocks: list[Block],
    count_tokens: TokenCounter = approx_tokens,
    max_tokens: int = 256,
    min_chars: int = 60,
) -> list[Chunk]:
    """Turn a document's blocks into passages that fit the model window."""
    units = _attach_headings(blocks)
    units = _merge_short(units, min_chars)
    rows = {line for b in blocks if b.table for line in b.text.split("\n")}
    chunks: list[Chunk] = []
    for unit in units:
        chunks.extend(_split_long(unit, count_tokens, max_tokens, rows))
    # A heading stays in its passage's text but is no candidate for the answering sentence.
    headings = {b.text for b in blocks if b.heading}
    for chunk in chunks:
        prose = [(s, e) for s, e in chunk.sentences if chunk.span.text[s:e] not in headings]
        chunk.sentences = prose or chunk.sentences
    return chunks


def _attach_headings(blocks: list[Block]) -> list[Span]:
    units: list[Span] = []
    pending: list[Span] = []
    for block in blocks:
        if block.heading:
            pending.append(block.span)
            continue
        units.append(join_spans([*pending, block.span]) if pending else block.span)
        pending = []
    return units  # a heading with no text after it is dropped


def _merge_short(units: list[Span], min_chars: int) -> list[Span]:
    merged: list[Span] = []
    carry: Span | None = None  # short text waiting to be put before the next unit
    for unit in units:
        if carry is not None:
            unit, carry = join_spans([carry, unit]), None
        if len(unit.text) >= min_chars:
            merged.append(unit)
        elif merged:
            merged[-1] = join_spans([merged[-1], unit])
        else:
            carry = unit
    if carry is not None:
        merged.append(carry)  # the whole document is one short fragment
    return merged


def _split_long(unit: Span, count_tokens: TokenCounter, max_tokens: int,
                rows: Collection[str] = ()) -> list[Chunk]:
    sentences = split_sentences(unit.text, rows)
    budget = max(8, max_tokens - 2)  # the model adds [CLS] and [SEP]
    if count_tokens(unit.text) <= budget:
        return [Chunk(unit, sentences)]
    pieces: list[tuple[int, int]] = []
    for start, end in sentences:
        if count_tokens(unit.text[start:end]) > budget:
            pieces.extend(_split_words(unit.text, start, end, count_tokens, budget))
        else:
            pieces.append((start, end))
    chunks: list[Chunk] = []
    group: list[tuple[int, int]] = []
    for piece in pieces:
        candidate = group + [piece]
        if group and count_tokens(unit.text[candidate[0][0] : piece[1]]) > budget:
            chunks.append(_make_chunk(unit, group))
            group = [piece]
        else:
            group = candidate
    if group:
        chunks.append(_make_chunk(unit, group))
    return chunks


def _split_words(text, start, end, count_tokens, budget) -> list[tuple[int, int]]:
    """Split one over-long sentence at word boundaries."""
    out, piece_start, used = [], start, 0
    for m in re.finditer(r"\S+", text[start:end]):
        cost = count_tokens(m.group(0))
        w_start = start + m.start()
        if used and used + cost > budget:
            out.append((piece_start, w_start))
            piece_start, used = w_start, 0
        used += cost
    out.append((piece_start, end))
    return out


def _make_chunk(unit: Span, group: list[tuple[int, int]]) -> Chunk:
    start, end = group[0][0], group[-1][1]
    span = slice_span(unit, start, end)
    raw = unit.text[start:end]
    shift = start + len(raw) - len(raw.lstrip())
    sentences = []
    for s, e in group:
        piece = unit.text[s:e].strip()
        at = unit.text.index(piece, s) - shift if piece else s - shift
        sentences.append((at, at + len(piece)))
    return Chunk(span, sentences)
