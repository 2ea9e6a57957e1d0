"""Missing terms: the idf weight of the question's words that the passage lacks, negated.

Unlike `coverage`, a share, this counts in absolute terms: one word missing from a
two-word question ("how many died?" against "were killed") weighs what one rare word
weighs, while a question from elsewhere misses many. Higher (nearer 0) is better.
"""

from qa_service.search.candidates import Candidates, Scores
from qa_service.search.signals.base import Signal


def _missing(c: Candidates) -> Scores:
    held = {row: set(found) for row, found in c.matched.items()}
    return {row: -sum(w for t, w in c.weights.items() if t not in held.get(row, ()))
            for row in c.rows}


MISSING_TERMS = Signal("missing_terms", "Minus the idf weight of the question's words that "
                       "the passage lacks (0: it holds them all).", _missing)
