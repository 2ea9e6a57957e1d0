"""Explain a ranking: how each passage got where it is."""

from __future__ import annotations

from qa_service.search.ranking import Ranking


def _rank_of(scores: dict[int, float], row: int) -> int | None:
    """1-based rank of `row` by this signal among the candidates it scored above 0."""
    if scores.get(row, 0.0) <= 0.0:
        return None
    return 1 + sum(1 for other, s in scores.items() if s > scores[row])


def explanation(ranking: Ranking, row: int) -> dict:
    """Return the signals behind one passage's place in the answer."""
    dense = ranking.signals["dense"]
    lexical = ranking.signals["lexical"]
    return {
        "lexical_rank": _rank_of(lexical, row),
        "lexical_score": round(float(lexical.get(row, 0.0)), 4),
        "dense_rank": 1 + sum(1 for s in dense.values() if s > dense[row]),
        "dense_score": round(float(dense[row]), 4),
        "sentence_score": round(float(ranking.signals["sentence"][row]), 4),
        "coverage": round(float(ranking.signals["coverage"][row]), 4),
        "sentence_terms": round(float(ranking.signals["terms"][row]), 4),
        "phrases": round(float(ranking.signals["phrases"][row]), 4),
        "answer_type": bool(ranking.signals["answer_type"][row]),
        "names": round(float(ranking.signals["names"].get(row, 0.0)), 4),
        "fused_score": round(float(ranking.fused[row]), 4),
        "matched_terms": ranking.matched.get(row, []),
        "candidates": len(ranking.fused),
    }
