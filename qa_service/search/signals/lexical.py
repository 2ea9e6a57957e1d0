"""Lexical: BM25 of the question's words (and, weighed less, its history's) in the passage."""

from qa_service.search.candidates import Candidates, Scores
from qa_service.search.signals.base import Signal


def _lexical(c: Candidates) -> Scores:
    return c.retrieved["lexical"]


LEXICAL = Signal("lexical", "BM25 of the question's words in the passage and its title "
                 "(history included, weighed less).", _lexical, weight=0.25, alone=True)
