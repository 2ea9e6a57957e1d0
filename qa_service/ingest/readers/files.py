"""Read one corpus file: check its bytes, parse them, and settle it in corpus order.

Checking and parsing depend on the file alone, so they may run anywhere (this process,
or a build engine's worker, ingest/worker.py). Settling depends on the files before it
(a file whose bytes an earlier file indexed is a duplicate), so read_corpus settles each
file in corpus order, whoever read it.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from qa_service.ingest.readers.base import (
    CorpusFile,
    Extracted,
    RawDocument,
    Reader,
    Skips,
    UnreadableError,
)
from qa_service.ingest.readers.limits import OverLimitError, bound_metadata, check_text
from qa_service.ingest.readers.sandbox import ReadLimits, shared_sandbox

log = logging.getLogger(__name__)

# A reason a file is left out, and the detail its warning gives.
Skip = tuple[str, str]
# What parsing a file gave: its text and metadata, or why it is left out.
Parsed = tuple[Extracted | None, Skip | None]


@dataclass
class Checked:
    """A file's bytes before parsing: the manifest's entry for them, or why it is left out."""

    entry: list | None = None  # [size, mtime_ns, sha256 of the bytes read]; None: unread
    skip: Skip | None = None  # left out before parsing (too big, unreadable, empty, binary)
    data: bytes | None = None  # the bytes, until parsed

    @property
    def digest(self) -> str | None:
        return self.entry[2] if self.entry is not None else None


# How read_corpus gets a file: checked now, parsed when settle asks (never, for a duplicate).
Fetch = Callable[[CorpusFile, Reader], tuple[Checked, Callable[[], Parsed]]]


def check_file(f: CorpusFile, reader: Reader, max_file_bytes: int | None) -> Checked:
    """Read a file's bytes and hash them, or say why it is left out before parsing."""
    if max_file_bytes is not None and f.size > max_file_bytes:
        return Checked(skip=("too big", f"too big: {f.size} bytes is over the limit "
                                        f"of {max_file_bytes} (QA_MAX_FILE_BYTES)"))
    try:
        data = f.path.read_bytes()
    except OSError as exc:
        return Checked(skip=("unreadable", f"unreadable ({exc.strerror or exc})"))
    # The bytes indexed, hashed in the same read (the manifest's).
    entry = [f.size, f.mtime_ns, hashlib.sha256(data).hexdigest()]
    if not data.strip():
        return Checked(entry, ("empty", "the file is empty"))
    if not reader.binary and _looks_binary(data):
        return Checked(entry, ("binary", "it is a binary file, not text"))
    return Checked(entry, data=data)


def parse_file(f: CorpusFile, reader: Reader, data: bytes, digest: str,
               limits: ReadLimits | None = None) -> Parsed:
    """Parse a checked file's bytes with its format's reader (in the sandbox if `limits`)."""
    try:
        if limits is not None and limits.active and not reader.decode_only:
            found = shared_sandbox(limits).read(reader, data, f.relpath, digest)
        else:
            found = reader.read(data, f.relpath)
        check_text(found.raw, f.relpath)
    except OverLimitError as exc:  # a bomb: named with the bound it passed
        return None, ("over a limit", f"over a limit: {exc}")
    except Exception as exc:  # a corrupt file of any format: one line, no traceback
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if not isinstance(exc, UnreadableError):
            detail = f"{type(exc).__name__}: {detail}"
        return None, ("unreadable", f"unreadable as {reader.kind} ({detail})")
    found.metadata = bound_metadata(found.metadata, f.relpath)
    return found, None


def reading_here(max_file_bytes: int | None, limits: ReadLimits | None = None) -> Fetch:
    """Return the Fetch that reads files in this process, parsing only what settle asks."""
    def fetch(f: CorpusFile, reader: Reader) -> tuple[Checked, Callable[[], Parsed]]:
        checked = check_file(f, reader, max_file_bytes)
        return checked, lambda: parse_file(f, reader, checked.data, checked.digest, limits)
    return fetch


def settle(f: CorpusFile, checked: Checked, parse: Callable[[], Parsed], skips: Skips,
           hashes: dict[str, list] | None, first_with: dict[str, str]) -> Extracted | None:
    """Return a file's text, or None when it is left out (warned and counted in `skips`).

    `first_with`: content hash -> the file indexed with that content, of the files
    settled before; a file with the same bytes is a duplicate and is not parsed.
    """
    if hashes is not None and checked.entry is not None:
        hashes[f.relpath] = checked.entry
    if checked.skip is not None:
        skip_file(skips, checked.skip[0], f.relpath, checked.skip[1])
        return None
    if checked.digest in first_with:
        skip_file(skips, "duplicate", f.relpath, f"duplicate: same content as "
                  f"{first_with[checked.digest]}, which is indexed once")
        return None
    found, skip = parse()
    if skip is not None:
        skip_file(skips, skip[0], f.relpath, skip[1])
        return None
    first_with[checked.digest] = f.relpath
    return found


def raw_document(f: CorpusFile, reader: Reader, found: Extracted, table: dict,
                 default_source: str) -> RawDocument:
    """Return the document a file gave, its sources.toml `table` over its own metadata."""
    return RawDocument(doc_id=f.relpath, kind=reader.kind, raw=found.raw,
                       metadata={**found.metadata, **table}, default_source=default_source,
                       pages=found.pages, tables=found.tables)


def skip_file(skips: Skips, reason: str, relpath: str, why: str) -> None:
    """Warn that a file is left out, and count it in `skips` by reason."""
    log.warning("skipping %s: %s", relpath, why)
    skips.add(reason, relpath, why)


def _looks_binary(data: bytes) -> bool:
    # Git's test: a NUL byte near the start. Text in UTF-16 also fails it, and is not
    # supported either.
    return b"\x00" in data[:8192]
