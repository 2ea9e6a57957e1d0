"""Explain a ranking: how each passage got where it is, signal by signal."""

from __future__ import annotations

from qa_service.search.ranking import Ranking
from qa_service.search.signals import SIGNALS


def _rank_of(scores: dict[int, float], row: int) -> int | None:
    """1-based rank of `row` by this signal among the candidates, None where it scored 0."""
    value = scores.get(row, 0.0)
    if value <= 0.0:
        return None
    return 1 + sum(1 for s in scores.values() if s > value)


def explanation(ranking: Ranking, row: int) -> dict:
    """Return the signals behind one passage's place in the answer."""
    return {
        "score": round(float(ranking.scores[row]), 4),
        "fused": round(float(ranking.fused[row]), 4),
        "candidates": len(ranking.fused),
        "matched_terms": ranking.matched.get(row, []),
        "signals": {
            s.name: {"value": round(float(ranking.signals[s.name].get(row, 0.0)), 4),
                     "rank": _rank_of(ranking.signals[s.name], row)}
            for s in SIGNALS if s.name in ranking.signals
        },
    }
