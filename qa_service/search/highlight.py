"""Score a passage's sentences against the query vector."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from qa_service.store.index import Index

Sentences = list[tuple[tuple[int, int], float]]  # (start, end) in the text, cosine


def sentence_scores(index: Index, records: dict, qvec: np.ndarray) -> dict[int, Sentences]:
    """Return, per passage row, its sentences' spans and cosines with the query."""
    spans = index.passages.sentence_spans(list(records))
    found: dict[int, Sentences] = {row: [] for row in records}
    if spans:
        scores = index.vectors.sentence_scores_at(qvec, [s[0] for s in spans])
        for (_, row, start, end), score in zip(spans, scores.tolist()):
            found[row].append(((start, end), score))
    for row, rec in records.items():
        if not found[row]:  # no sentence recorded: the whole passage stands for one
            found[row] = [((0, len(rec["text"])), 0.0)]
    return found

