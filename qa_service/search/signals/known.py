"""Known names: the share of the question's names that the corpus mentions at all.

"How many died in the Paris attacks?" asked of reports on Aktobe shares their words and
their topic, but no report names Paris: the corpus cannot answer it, however alike the
passages read. The same for every candidate of a question; the answerability model reads
it. A near miss in training counts the corpus without the documents taken out, so a name
only they held is unknown, as it would be in an archive that lacks them.
"""

from qa_service.search.candidates import Candidates, Scores
from qa_service.search.signals.base import Signal


def _known(c: Candidates) -> Scores:
    names = c.question_names
    total = sum(names.values())
    if not total:
        return dict.fromkeys(c.rows, 1.0)
    known = sum(w for t, w in names.items() if c.held_anywhere(t))
    return dict.fromkeys(c.rows, known / total)


KNOWN_NAMES = Signal("known_names", "Share of the term weight of the question's names that "
                     "some passage of the corpus holds (1: every name is known, or none "
                     "asked).", _known)
