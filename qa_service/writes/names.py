"""Check what a write names: a new file's name, an existing document, its metadata."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path, PurePosixPath

from qa_service.errors import InvalidInput, NotFound
from qa_service.ingest.metadata import parse_date
from qa_service.ingest.readers import METADATA_FILE, SUFFIXES, reader_for
from qa_service.ingest.readers.limits import MAX_FIELDS, MAX_METADATA_CHARS, MAX_VALUE_CHARS

# A file name's bytes: most file systems refuse more than 255.
MAX_NAME_BYTES = 255
# A metadata field's name: a word a filter (--where FIELD=VALUE) can name.
FIELD_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,63}")
# Items of a list value (keywords, tags).
MAX_LIST_ITEMS = 50


def check_new_name(name: object) -> str:
    """Return a new document's file name, or raise InvalidInput saying what is wrong."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput("each file needs a name (the file name of the upload)")
    shown = name[:80]
    if name != name.strip():
        raise InvalidInput(f"file name {shown!r} starts or ends with spaces")
    if any(unicodedata.category(c).startswith("C") for c in name):
        # Control, format (bidi overrides), surrogate and unassigned characters.
        raise InvalidInput(f"file name {shown!r} holds a control or invisible character")
    if "/" in name or "\\" in name:
        raise InvalidInput(f"file name {shown!r} holds a path: give a bare file name")
    if name in (".", "..") or name.startswith("."):
        raise InvalidInput(f"file name {shown!r} starts with a dot: hidden files are not "
                           "indexed")
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        raise InvalidInput(f"file name {shown!r}... is longer than {MAX_NAME_BYTES} bytes")
    if name == METADATA_FILE:
        raise InvalidInput(f"{METADATA_FILE} is the corpus's metadata file, not a document")
    if reader_for(Path(name)) is None:
        raise InvalidInput(f"file name {shown!r}: unsupported type; supported: "
                           f"{', '.join(SUFFIXES)}")
    return name


def existing_document(corpus: Path, doc_id: object) -> Path:
    """Return the corpus file that is document `doc_id`, or raise NotFound / InvalidInput."""
    if not isinstance(doc_id, str) or not doc_id:
        raise InvalidInput("a document id is required")
    parts = PurePosixPath(doc_id).parts
    if (not parts or doc_id.startswith("/") or any(p in (".", "..") or p.startswith(".")
                                                    for p in parts)
            or doc_id == METADATA_FILE or "\\" in doc_id or "\x00" in doc_id):
        raise NotFound(f"no document {doc_id[:80]!r} in the corpus")
    path = Path(corpus, *parts)
    root = Path(corpus).resolve()
    try:
        inside = path.resolve().is_relative_to(root) and path.is_file() \
            and not path.is_symlink()
    except (OSError, ValueError):
        inside = False
    if not inside:
        raise NotFound(f"no document {doc_id[:80]!r} in the corpus")
    return path


def check_metadata(given: object, where: str = "metadata") -> dict:
    """Return metadata for a document (field -> text, number, true/false or list of text),
    or raise InvalidInput: written to the corpus, it must be what a reader would keep."""
    if given is None:
        return {}
    if not isinstance(given, dict):
        raise InvalidInput(f"{where} must be an object of fields")
    if len(given) > MAX_FIELDS:
        raise InvalidInput(f"{where} has {len(given)} fields; at most {MAX_FIELDS}")
    out: dict = {}
    for key, value in given.items():
        if not isinstance(key, str) or not FIELD_RE.fullmatch(key):
            raise InvalidInput(f"{where}: field name {str(key)[:40]!r} must be a word of "
                               "letters, digits, _ . or - (at most 64)")
        out[key] = _value(value, f"{where}.{key}")
    if "date" in out and parse_date(out["date"]) is None:
        raise InvalidInput(f"{where}.date {str(out['date'])[:40]!r} is not a date "
                           "(YYYY-MM-DD)")
    if len(json.dumps(out, ensure_ascii=False)) > MAX_METADATA_CHARS:
        raise InvalidInput(f"{where} is over {MAX_METADATA_CHARS} characters in all")
    return out


def _value(value: object, where: str):
    if isinstance(value, bool) or isinstance(value, int) and abs(value) < 2**53:
        return value
    if isinstance(value, float) and value == value and abs(value) != float("inf"):
        return value
    if isinstance(value, str):
        if len(value) > MAX_VALUE_CHARS:
            raise InvalidInput(f"{where} is longer than {MAX_VALUE_CHARS} characters")
        if any(unicodedata.category(c) == "Cs" for c in value) or "\x00" in value:
            raise InvalidInput(f"{where} holds characters that are not text")
        return value
    if isinstance(value, list):
        if len(value) > MAX_LIST_ITEMS:
            raise InvalidInput(f"{where} has more than {MAX_LIST_ITEMS} items")
        items = [_value(v, where) for v in value]
        if any(not isinstance(v, str) for v in items):
            raise InvalidInput(f"{where}: a list holds text only")
        return items
    raise InvalidInput(f"{where} must be text, a number, true/false or a list of text")
