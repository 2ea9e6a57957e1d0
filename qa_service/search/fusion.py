"""Fusion strategies: combine per-signal scores of candidate passages into one ranking."""

from __future__ import annotations

import logging
from typing import Protocol

from qa_service.config import RankingSettings
from qa_service.errors import InvalidInput
from qa_service.search.learned import RankerModel, load_ranker
from qa_service.search.signals import SIGNALS, hand_weights

log = logging.getLogger(__name__)

Scores = dict[int, float]
FUSIONS = ("learned", "weighted", "rrf")


class Fusion(Protocol):
    """Combines named signals ({row: score}, higher is better) into fused scores."""

    name: str
    signals: tuple[str, ...]  # the signals it reads
    probabilities: bool  # whether the scores it shows are P(the passage answers)

    def fuse(self, signals: dict[str, Scores], rows: list[int]) -> Scores: ...

    def shown(self, fused: Scores, confidence: float) -> Scores:
        """The scores an answer shows, in the fused order."""
        ...


class WeightedFusion:
    """A weighted sum of signals, each scaled to [0, 1] over the candidates.

    Scaling by the candidates' own range puts cosine similarities and BM25 scores, whose
    units differ, on one footing; a row a signal did not score gets that signal's 0.
    """

    name = "weighted"
    probabilities = False

    def __init__(self, weights: dict[str, float]):
        self.weights = {name: w for name, w in weights.items() if w}
        self.signals = tuple(self.weights)

    def shown(self, fused: Scores, confidence: float) -> Scores:
        return fused  # 0 to 1, comparable within one answer only

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
    probabilities = False
    signals = tuple(s.name for s in SIGNALS if s.alone)

    def __init__(self, k: int = 60):
        self.k = k

    def shown(self, fused: Scores, confidence: float) -> Scores:
        return fused

    def fuse(self, signals: dict[str, Scores], rows: list[int]) -> Scores:
        fused = dict.fromkeys(rows, 0.0)
        for name in self.signals:
            scores = signals.get(name, {})
            ranked = sorted(scores, key=scores.get, reverse=True)
            for rank, row in enumerate(ranked, 1):
                if row in fused:
                    fused[row] += 1.0 / (self.k + rank)
        return fused


class LearnedFusion:
    """A LambdaMART ranker over every signal (train-ranker), scores on one scale."""

    name = "learned"
    probabilities = True

    def __init__(self, model: RankerModel):
        self.model = model
        self.signals = model.signals

    def fuse(self, signals: dict[str, Scores], rows: list[int]) -> Scores:
        return dict(zip(rows, self.model.scores(signals, rows).tolist()))

    def shown(self, fused: Scores, confidence: float) -> Scores:
        # P(the passage answers): the same for every question, unlike the raw score.
        return self.model.probabilities(fused, confidence)


def get_fusion(ranking: RankingSettings) -> Fusion:
    """Return the fusion strategy that `ranking.fusion` names."""
    if ranking.fusion == "learned":
        model = load_ranker(ranking.ranker)
        kinds = model.meta.get("answer_types")
        if kinds is not None and kinds != ranking.answer_types:
            log.warning("the ranker %s was trained with answer_types %s; this ranking "
                        "takes %s, so its answer_type signal differs from the one it "
                        "learned", model.path, "on" if kinds else "off",
                        "on" if ranking.answer_types else "off")
        trained = model.meta.get("candidates")
        if trained is not None and trained != ranking.candidates:
            log.warning("the ranker %s was trained on %d candidates per retriever; this "
                        "ranking takes %d, so its features differ from those it learned",
                        model.path, trained, ranking.candidates)
        return LearnedFusion(model)
    if ranking.fusion == "weighted":
        return WeightedFusion(hand_weights(ranking.weights))
    if ranking.fusion == "rrf":
        return ReciprocalRankFusion(ranking.rrf_k)
    raise InvalidInput(f"unknown fusion {ranking.fusion!r}: expected one of "
                       f"{', '.join(FUSIONS)}")
