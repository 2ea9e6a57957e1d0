"""Coverage: how much of the question's term weight the passage holds."""

from qa_service.search.candidates import Candidates, Scores
from qa_service.search.signals.base import Signal


def _coverage(c: Candidates) -> Scores:
    # A passage that holds the rare words of a question ("zhuz") likely speaks of its
    # subject even when the embedding is unsure; one that lacks them likely does not.
    total = sum(c.weights.values()) or 1.0
    return {row: sum(c.weights[t] for t in found) / total for row, found in c.matched.items()}


COVERAGE = Signal("coverage", "Share of the question's term weight (idf) that the passage "
                  "holds.", _coverage, weight=0.1)
