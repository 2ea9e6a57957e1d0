"""Read a BEIR-style corpus.jsonl: one JSON document a line."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

from qa_service.errors import CorpusError
from qa_service.ingest.readers.base import RawDocument, Skips

log = logging.getLogger(__name__)


def read_beir(path: Path, skips: Skips | None = None,
              passed: Callable[[], None] | None = None) -> Iterator[RawDocument]:
    """Yield the documents of a corpus.jsonl; a line without a usable _id is skipped, counted.

    `passed` is called once a line, blank or left out ones too.
    """
    source = path.parent.resolve().name
    skips = Skips() if skips is None else skips
    seen: set[str] = set()
    with open(path, encoding="utf-8", errors="replace") as fh:
        for lineno, line in enumerate(fh, 1):
            # Counted as taken: a line is parsed in microseconds, so the count is not ahead.
            if passed is not None:
                passed()
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                raw_id = row["_id"]
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise CorpusError(f"{path}:{lineno}: not a BEIR document line ({exc})") from None
            doc_id = _doc_id(raw_id)
            if doc_id is None:
                # str(None) would index the document as "None", and str([1]) as "[1]".
                log.warning("%s:%d: skipping the line: _id must be a non-empty string or an "
                            "integer, got %s", path, lineno, json.dumps(raw_id)[:60])
                skips.add("bad _id")
                continue
            if doc_id in seen:
                log.warning("%s:%d: duplicate _id %r skipped", path, lineno, doc_id)
                skips.add("duplicate")
                continue
            seen.add(doc_id)
            meta = row.get("metadata") if isinstance(row.get("metadata"), dict) else {}
            where = f"{path}:{lineno}"
            title = _text(row.get("title") or meta.get("title"), "; ", where, "title")
            text = _text(row.get("text"), "\n\n", where, "text")
            yield RawDocument(doc_id, "beir", text, {**meta, "title": title},
                              default_source=source)


def _doc_id(value) -> str | None:
    """Return a line's _id as text, or None when it names no document (null, "", a list)."""
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _text(value, joiner: str, where: str, field: str) -> str:
    """Return a title or text field as text: a list's items joined; anything else refused."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, list) and all(isinstance(v, str | int | float) and
                                       not isinstance(v, bool) for v in value):
        return joiner.join(str(v) for v in value if str(v).strip())
    # A repr ("{'a': 1}") is no title: leave the field empty and say so.
    log.warning("%s: %s is not text (%s), left empty", where, field, type(value).__name__)
    return ""
