"""The typed spans of a build's passages (people, places, dates, numbers ...), found once.

After the passages are written, the spans of every new or changed passage are found by
spaCy's recogniser (`text.entities.typed_spans`) in batches, and stored packed beside
the passage's word keys; a reused passage keeps the spans the live index stored for it.
One separate step rather than in the ingest workers: batched, the recogniser reads
passages several times faster than one document's few at a time, and it loads once.
"""

from __future__ import annotations

from qa_service.indexing.writer import PassageWriter
from qa_service.progress import Progress
from qa_service.store import Index
from qa_service.store.keys import pack_types
from qa_service.text.entities import typed_spans

# Passages read back, analysed and stored together: a few of spaCy's batches, so that
# memory stays flat and progress moves.
CHUNK = 512


def write_types(writer: PassageWriter, old_rows: list[int], previous: Index | None,
                progress: bool = False) -> int:
    """Store the typed spans of every passage `writer` wrote; return how many were found
    now (the rest were reused). `old_rows`: each new row's row in `previous` (-1: new)."""
    reusable = previous is not None and previous.passages.has_types
    reused = [(row, old) for row, old in enumerate(old_rows) if old >= 0 and reusable]
    for at in range(0, len(reused), CHUNK):
        part = reused[at:at + CHUNK]
        stored = previous.passages.stored_types([old for _, old in part])
        writer.add_types([(row, stored[old]) for row, old in part])
    todo = [row for row, old in enumerate(old_rows) if old < 0 or not reusable]
    with Progress(len(todo) if progress else 0, "Typed spans", "passages") as shown:
        for at in range(0, len(todo), CHUNK):
            rows = todo[at:at + CHUNK]
            found = typed_spans(writer.texts(rows))
            writer.add_types([(row, pack_types(spans)) for row, spans in zip(rows, found)])
            shown.update(len(rows))
    writer.types_done()
    return len(todo)
