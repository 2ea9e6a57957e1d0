"""Sentence: the best cosine of one of the passage's sentences with the question."""

from qa_service.search.candidates import Candidates, Scores
from qa_service.search.signals.base import Signal


def _sentence(c: Candidates) -> Scores:
    return {row: max(score for _, score in found) for row, found in c.sentences.items()}


SENTENCE = Signal("sentence", "Best cosine of one of the passage's sentences with the "
                  "question.", _sentence, weight=0.3)
