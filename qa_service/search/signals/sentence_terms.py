"""Sentence terms: how much of the question's term weight one sentence holds."""

from qa_service.search.candidates import Candidates, Scores
from qa_service.search.signals.base import Signal


def _terms(c: Candidates) -> Scores:
    return {row: ev.share for row, ev in c.evidence.items()}


SENTENCE_TERMS = Signal("sentence_terms", "Share of the question's term weight held by one "
                        "sentence of the passage (the best).", _terms, weight=0.2)
