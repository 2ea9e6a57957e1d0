"""Read a BEIR-style corpus.jsonl: one JSON document a line."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

from qa_service.errors import CorpusError
from qa_service.ingest.readers.base import RawDocument

log = logging.getLogger(__name__)


def read_beir(path: Path) -> Iterator[RawDocument]:
    """Yield the documents of a corpus.jsonl; a repeated _id is skipped with a warning."""
    source = path.parent.resolve().name
    seen: set[str] = set()
    with open(path, encoding="utf-8", errors="replace") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                doc_id = str(row["_id"])
                text = str(row.get("text") or "")
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise CorpusError(f"{path}:{lineno}: not a BEIR document line ({exc})") from None
            if doc_id in seen:
                log.warning("%s:%d: duplicate _id %r skipped", path, lineno, doc_id)
                continue
            seen.add(doc_id)
            meta = row.get("metadata") if isinstance(row.get("metadata"), dict) else {}
            meta = {**meta, "title": row.get("title") or meta.get("title") or ""}
            yield RawDocument(doc_id, "beir", text, meta, default_source=source)
