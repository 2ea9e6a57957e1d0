"""Names: the share of the question's names that the passage (or the one before it) holds."""

from qa_service.search.candidates import Candidates, Scores
from qa_service.search.signals.base import Signal


def _names(c: Candidates) -> Scores:
    """A name is a word the corpus mostly capitalises (`name_share` of its uses), so
    "grozin" counts in a question typed in lower case. A question that names someone or
    something is about them: of two passages on its topic, the one naming them is likelier
    the answer."""
    named_terms = c.names
    total = sum(named_terms.values())
    if not total:
        return dict.fromkeys(c.rows, 0.0)
    # A name in the passage just before, of the same document, counts as named here too.
    before, named_before = c.before, c.named_before
    held = {}
    for row, found in c.matched.items():
        named = (set(found) | named_before.get(before.get(row), set())) & named_terms.keys()
        held[row] = sum(named_terms[t] for t in named) / total
    return held


NAMES = Signal("names", "Share of the term weight of the question's names (words the corpus "
               "capitalises) that the passage or the one before it holds.", _names,
               weight=0.1)
