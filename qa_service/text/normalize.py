"""Normalise text (Unicode NFKC, whitespace) and fold words, keeping where each character was."""

from __future__ import annotations

import functools
import re
import unicodedata
from array import array
from dataclasses import dataclass

# Characters that carry no text: zero-width spaces and joiners, BOM, soft hyphen.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
# A lone surrogate (JSON's "\ud800" escape) is no character: tokenizers and SQLite refuse
# it, so it reads as the replacement character.
_INVISIBLE.update(dict.fromkeys(range(0xD800, 0xE000), "\ufffd"))
_SPACE_RE = re.compile(r"\s+")
_RUN_RE = re.compile(r"\S+")  # \s is str.isspace()


@dataclass
class Span:
    """Normalised text plus, for each of its characters, the offset in the source."""

    text: str
    offsets: array

    @property
    def start(self) -> int:
        return self.offsets[0] if self.offsets else 0

    @property
    def end(self) -> int:
        return self.offsets[-1] + 1 if self.offsets else 0

    def __bool__(self) -> bool:
        return bool(self.text)


def normalize(text: str) -> str:
    """Return `text` in NFKC with invisible characters removed and whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE)
    return _SPACE_RE.sub(" ", text).strip()


def fold(text: str) -> str:
    """Lower-case text and strip its diacritics (as FTS5's remove_diacritics does)."""
    if text.isascii():  # most words and passages: lower case is all there is to do
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    if decomposed.isascii():  # most words and many passages: nothing to strip
        return decomposed
    return decomposed.translate(_combining_marks())


# Every combining mark Unicode defines lies in planes 0 and 1 (the last, U+1E94A).
_MARK_PLANES_END = 0x20000


@functools.cache
def _combining_marks() -> dict[int, None]:
    """Map every combining mark to nothing, for str.translate (built once, a few ms)."""
    return {cp: None for cp in range(_MARK_PLANES_END) if unicodedata.combining(chr(cp))}


def normalize_span(raw: str, base: int = 0) -> Span:
    """Normalise `raw` (found at `base` in the source) keeping a source offset per character."""
    out: list[str] = []
    offsets = array("I")
    pending_space = False
    # Run by run of non-space characters: an ASCII run is its own NFKC, one slice; only
    # other runs go character by character (a SciFact abstract took 2.5 ms, char by char).
    for run in _RUN_RE.finditer(raw):
        start = run.start()
        if start:  # whitespace came before it
            pending_space = bool(out)
        word = run.group()
        if word.isascii():
            if pending_space:
                out.append(" ")
                offsets.append(base + start - 1)
                pending_space = False
            out.append(word)
            offsets.extend(range(base + start, base + run.end()))
            continue
        for i, ch in enumerate(word, start):
            piece = unicodedata.normalize("NFKC", ch).translate(_INVISIBLE)
            if not piece:
                continue
            if piece.isspace():  # e.g. an ideographic space folds to a plain space
                pending_space = bool(out)
                continue
            if pending_space:
                out.append(" ")
                offsets.append(base + i - 1)
                pending_space = False
            out.append(piece)
            offsets.extend([base + i] * len(piece))
    text = "".join(out)
    if text.isascii():
        return Span(text, offsets)
    # Per-character NFKC misses compositions across characters (e + combining accent);
    # fall back to whole-string NFKC with offsets mapped proportionally.
    whole = unicodedata.normalize("NFKC", text)
    if whole != text and offsets:
        n = len(offsets)
        offsets = array("I", (offsets[min(n - 1, i * n // len(whole))] for i in range(len(whole))))
        text = whole
    return Span(text, offsets)


def join_spans(parts: list[Span], sep: str = "\n") -> Span:
    """Concatenate spans with `sep`, whose characters map to the end of the previous part."""
    text_parts: list[str] = []
    offsets = array("I")
    for part in parts:
        if text_parts:
            text_parts.append(sep)
            offsets.extend([offsets[-1]] * len(sep))
        text_parts.append(part.text)
        offsets.extend(part.offsets)
    return Span("".join(text_parts), offsets)


def slice_span(span: Span, start: int, end: int) -> Span:
    """Return the part of `span` between character positions `start` and `end`, stripped."""
    while start < end and span.text[start].isspace():
        start += 1
    while end > start and span.text[end - 1].isspace():
        end -= 1
    return Span(span.text[start:end], span.offsets[start:end])
