"""Names: the share of the question's names that the passage (or the one before it) holds."""

from qa_service.search.candidates import Candidates, Scores
from qa_service.search.signals.base import Signal
from qa_service.text import fold


def _names(c: Candidates) -> Scores:
    """A name is a word the corpus mostly capitalises (`name_share` of its uses), so
    "grozin" counts in a question typed in lower case. A question that names someone or
    something is about them: of two passages on its topic, the one naming them is likelier
    the answer."""
    store, weights = c.store, c.weights
    shares = store.capitalized([fold(t) for t in weights])
    named_terms = {t: w for t, w in weights.items()
                   if shares.get(fold(t), 0.0) >= c.ranking.name_share}
    total = sum(named_terms.values())
    if not total:
        return dict.fromkeys(c.rows, 0.0)
    # Reports name someone once and then say "he" or "the shop": a name in the passage
    # just before, of the same document, counts as named here too.
    before = {row: row - 1 for row in c.matched if row > 0}
    docs = store.doc_ids(sorted(set(before.values())))
    before = {row: prev for row, prev in before.items()
              if docs.get(prev) == c.records[row]["doc_id"]}
    named_before: dict[int, set[str]] = {prev: set() for prev in before.values()}
    if named_before:
        for name in named_terms:
            for prev in c.lexical.matching(c.terms[name], list(named_before)):
                named_before[prev].add(name)
    held = {}
    for row, found in c.matched.items():
        named = (set(found) | named_before.get(before.get(row), set())) & named_terms.keys()
        held[row] = sum(named_terms[t] for t in named) / total
    return held


NAMES = Signal("names", "Share of the term weight of the question's names (words the corpus "
               "capitalises) that the passage or the one before it holds.", _names,
               weight=0.1)
