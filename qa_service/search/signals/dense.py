"""Dense: the passage's cosine with the question (and its history) embedded."""

from qa_service.search.candidates import Candidates, Scores
from qa_service.search.signals.base import Signal


def _dense(c: Candidates) -> Scores:
    return c.retrieved["dense"]


DENSE = Signal("dense", "Cosine of the passage with the question's embedding.", _dense,
               weight=0.3, alone=True)
