"""Phrases: the question's adjacent word pairs found adjacent in a sentence."""

from qa_service.search.candidates import Candidates, Scores
from qa_service.search.signals.base import Signal


def _phrases(c: Candidates) -> Scores:
    return {row: ev.phrases for row, ev in c.evidence.items()}


PHRASES = Signal("phrases", "Share of the question's adjacent word pairs found adjacent in "
                 "one sentence.", _phrases, weight=0.1)
