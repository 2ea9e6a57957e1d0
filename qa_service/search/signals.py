"""Signals read from the question's words: in the passage, in its best sentence, as pairs,
the kind of answer asked, and the question's names; and the relevance behind `answerable`."""

from __future__ import annotations

from qa_service.search.lexical import Terms, match_expression
from qa_service.search.query import Query
from qa_service.search.sentences import Evidence
from qa_service.store import PassageStore
from qa_service.text import fold


def history_scaled(query: Query, weights: dict[str, float]) -> dict[str, float]:
    """Weigh words that only the history brings as much as the history counts."""
    if not query.history:
        return weights
    own, scale = set(query.question_terms), query.history_weight
    return {t: w if t in own else w * scale for t, w in weights.items()}


def term_signals(weights: dict[str, float], matched: dict[int, list[str]],
                 evidence: dict[int, Evidence]) -> dict[str, dict[int, float]]:
    """Signals from the question's words (weighed by `history_scaled`): in the passage,
    in its best sentence, as adjacent pairs, and whether the answering sentence holds the
    kind of answer asked."""
    total = sum(weights.values()) or 1.0
    return {
        "coverage": {row: sum(weights[t] for t in found) / total
                     for row, found in matched.items()},
        "terms": {row: ev.share for row, ev in evidence.items()},
        "phrases": {row: ev.phrases for row, ev in evidence.items()},
        "answer_type": {row: float(ev.typed) for row, ev in evidence.items()},
    }


def names(store: PassageStore, weights: dict[str, float], terms: Terms,
          matched: dict[int, list[str]], records: dict, name_share: float
          ) -> dict[int, float]:
    """Return the share of the question's names each passage holds (empty: none named).

    A name is a word the corpus mostly capitalises (`name_share` of its uses), so "grozin"
    counts in a question typed in lower case. A question that names someone or something
    is about them: of two passages on its topic, the one naming them is likelier the answer.
    """
    shares = store.capitalized([fold(t) for t in weights])
    named_terms = {t: w for t, w in weights.items() if shares.get(fold(t), 0.0) >= name_share}
    total = sum(named_terms.values())
    if not total:
        return {}
    # Reports name someone once and then say "he" or "the shop": a name in the passage
    # just before, of the same document, counts as named here too.
    before = {row: row - 1 for row in matched if row > 0}
    docs = store.doc_ids(sorted(set(before.values())))
    before = {row: prev for row, prev in before.items()
              if docs.get(prev) == records[row]["doc_id"]}
    named_before: dict[int, set[str]] = {prev: set() for prev in before.values()}
    if named_before:
        for name in named_terms:
            for prev in store.matching(match_expression(terms[name]), list(named_before)):
                named_before[prev].add(name)
    held = {}
    for row, found in matched.items():
        named = (set(found) | named_before.get(before.get(row), set())) & named_terms.keys()
        held[row] = sum(named_terms[t] for t in named) / total
    return held


def relevance(rows: list[int], signals: dict[str, dict[int, float]],
              coverage: dict[int, float], coverage_weight: float) -> float:
    """Return how well the best of `rows` answers: its best cosine (passage or sentence)
    plus `coverage_weight` times the share of the query's term weight it holds."""
    return max(
        (max(signals["dense"][r], signals["sentence"][r]) + coverage_weight * coverage[r]
         for r in rows), default=0.0,
    )
