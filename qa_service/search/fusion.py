"""Fusion strategies: combine per-signal scores of candidate passages into one ranking."""

from __future__ import annotations

from typing import Protocol

from qa_service.config import RankingSettings
from qa_service.errors import InvalidInput

Scores = dict[int, float]


class Fusion(Protocol):
    """Combines named signals ({row: score}, higher is better) into fused scores."""

    name: str

    def fuse(self, signals: dict[str, Scores], rows: list[int]) -> Scores: ...


class WeightedFusion:
    """A weighted sum of signals, each scaled to [0, 1] over the candidates.

    Scaling by the candidates' own range puts cosine similarities and BM25 scores, whose
    units differ, on one footing; a row a signal did not score gets that signal's 0.
    """

    name = "weighted"

    def __init__(self, weights: dict[str, float]):
        self.weights = weights

    def fuse(self, signals: dict[str, Scores], rows: list[int]) -> Scores:
        fused = dict.fromkeys(rows, 0.0)
        total = sum(self.weights.get(name, 0.0) for name in signals) or 1.0
        for name, scores in signals.items():
            weight = self.weights.get(name, 0.0) / total
            if not weight or not scores:
                continue
            low = min(0.0, *scores.values()) if name == "lexical" else min(scores.values())
            high = max(scores.values())
            span = high - low
            for row in rows:
                if row in scores:
                    fused[row] += weight * ((scores[row] - low) / span if span else 1.0)
        return fused


class ReciprocalRankFusion:
    """Plain reciprocal-rank fusion (Cormack et al. 2009): sum of 1 / (k + rank)."""

    name = "rrf"

    def __init__(self, k: int = 60):
        self.k = k

    def fuse(self, signals: dict[str, Scores], rows: list[int]) -> Scores:
        fused = dict.fromkeys(rows, 0.0)
        for scores in signals.values():
            ranked = sorted(scores, key=scores.get, reverse=True)
            for rank, row in enumerate(ranked, 1):
                if row in fused:
                    fused[row] += 1.0 / (self.k + rank)
        return fused


def get_fusion(ranking: RankingSettings) -> Fusion:
    """Return the fusion strategy that `ranking.fusion` names."""
    if ranking.fusion == "weighted":
        return WeightedFusion(ranking.fusion_weights)
    if ranking.fusion == "rrf":
        return ReciprocalRankFusion(ranking.rrf_k)
    name = ranking.fusion
    raise InvalidInput(f"unknown fusion {name!r}: expected 'weighted' or 'rrf'")
