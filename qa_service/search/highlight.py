"""Score a passage's sentences and choose the one that answers (the highlight)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from qa_service.search.lexical import Terms, term_share

if TYPE_CHECKING:
    from qa_service.store.index import Index

# The highlight is the sentence with the best cosine plus this much of the share of the
# question's term weight it holds: of two sentences on the topic, the one holding the
# question's rarer words ("injured" rather than "Aktobe") is the answer.
TERM_WEIGHT = 0.6

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


def choose(text: str, sentences: Sentences, weights: dict[str, float], terms: Terms
           ) -> tuple[int, int]:
    """Return the span of the sentence that best answers."""
    def score(item) -> float:
        (start, end), cosine = item
        return cosine + TERM_WEIGHT * term_share(text[start:end], weights, terms)

    return max(sentences, key=score)[0]
