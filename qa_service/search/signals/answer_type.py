"""Answer type: the answering sentence holds the kind of answer asked (a number, a date ...)."""

from qa_service.search.candidates import Candidates, Scores
from qa_service.search.signals.base import Signal


def _typed(c: Candidates) -> Scores:
    return {row: float(ev.typed) for row, ev in c.evidence.items()}


ANSWER_TYPE = Signal("answer_type", "1 when the answering sentence holds the kind of answer "
                     "asked (a number for 'how many', a date for 'when'; with QA_ANSWER_TYPES=1 "
                     "also a person for 'who', a place for 'where' ..., from spaCy's types "
                     "stored by the build).", _typed, weight=0.1)
