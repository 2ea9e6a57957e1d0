"""Define what a reader gives: a raw document, the corpus files, and the reader interface."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from qa_service.text import counted


@dataclass
class RawDocument:
    """One document as read from disk, before cleaning."""

    doc_id: str
    kind: str  # text | markdown | html | pdf | docx | beir
    raw: str
    metadata: dict = field(default_factory=dict)
    default_source: str = ""
    # Offsets in `raw` where each page starts (pages[0] == 0); None: no pages.
    pages: list[int] | None = None
    # Offsets in `raw` where each table's block starts (see readers.tables); None: none.
    tables: list[int] | None = None
    # Not read: its file and metadata are as the build before read them (read_corpus's
    # `unchanged`), so `raw` is empty and the stored passages stand for it.
    reused: bool = False


@dataclass(frozen=True)
class CorpusFile:
    relpath: str
    path: Path
    size: int
    mtime_ns: int


@dataclass
class Extracted:
    """What a reader takes from one file: text, metadata found in it, page starts."""

    raw: str
    metadata: dict = field(default_factory=dict)
    pages: list[int] | None = None
    tables: list[int] | None = None  # where each table's block starts in `raw`


class Reader:
    """Read one format: its suffixes, its kind, and how its bytes become text."""

    kind = "text"
    suffixes: tuple[str, ...] = ()
    binary = False  # True: the format is binary (no NUL-byte test, no UTF-8 decoding)
    # True: reading only decodes the bytes, bounded by their size, so it needs no child
    # process with limits (readers/sandbox.py).
    decode_only = False

    def read(self, data: bytes, name: str) -> Extracted:
        """Return the text and metadata of a file's bytes (`name` names it in warnings)."""
        raise NotImplementedError


class UnreadableError(Exception):
    """A file that cannot be read as its format says (corrupt, encrypted)."""


# The reasons a file is left out, in the order the summary line lists them.
REASONS = ("unsupported type", "empty", "binary", "too big", "over a limit", "duplicate",
           "bad _id", "unreadable", "unreadable folder", "outside the corpus folder",
           "name not UTF-8", "no text after cleaning")


class Skips(Counter):
    """Count the files a build leaves out, by reason, for its summary line; with a file's
    name, keep why it was left out (`files`), for a job's per-file outcome."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.files: dict[str, str] = {}  # relpath -> why it was left out

    def add(self, reason: str, relpath: str | None = None, why: str | None = None) -> None:
        """Count one file left out for `reason` (`relpath`, `why`: which, and the detail)."""
        self[reason] += 1
        if relpath is not None:
            self.files[relpath] = why or reason

    def summary(self) -> str:
        """Return 'Skipped N files: ...' (by reason), or 'Skipped no files.'."""
        total = sum(self.values())
        if not total:
            return "Skipped no files."
        order = {reason: i for i, reason in enumerate(REASONS)}
        parts = ", ".join(f"{self[reason]} {reason}" for reason in sorted(
            (r for r in self if self[r]), key=lambda r: (order.get(r, len(order)), r)))
        return f"Skipped {counted(total, 'file')}: {parts}"


def file_sha256(path: Path) -> str:
    """Return the hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def decode(data: bytes, name: str, log) -> str:
    """Decode UTF-8 text, replacing bad bytes with a warning naming the file."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        log.warning("%s is not valid UTF-8 (byte %d); undecodable bytes were replaced",
                    name, exc.start)
        return data.decode("utf-8", errors="replace")


def keyword_list(value: str) -> list[str]:
    """Split a document property's keywords ("harvest; festival", "a, b") into a list,
    as front matter gives tags: `--where keywords=harvest` then finds one of them."""
    found = (k.strip() for k in value.replace(";", ",").split(","))
    return list(dict.fromkeys(k for k in found if k))


def json_safe(value):
    """Return `value` with dates as ISO strings and anything else JSON lacks as text."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [json_safe(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
