"""Event: the question's names in the passage, the one before it, its document's title and
lead.

A question about "the Almaty attack" is about what the reports on Almaty say: a passage of
a report on another attack, however alike its words, answers another question. Names
count wherever the report gives them (its title, its first paragraph, the paragraph
before), and a name the question capitalises counts even when the corpus never uses it,
so no passage holds it and every one is marked down alike.
"""

from qa_service.search.candidates import Candidates, Scores
from qa_service.search.signals.base import Signal


def _event(c: Candidates) -> Scores:
    names = c.question_names
    total = sum(names.values())
    if not total:
        return dict.fromkeys(c.rows, 0.0)
    matcher = c.matcher
    number = matcher.numbers
    # The names a document's title and lead hold, as the context signal reads them.
    in_documents = {}
    for doc, keys in c.title_keys.items():
        mask = matcher.terms_in(keys | c.lead_keys.get(doc, set()))
        in_documents[doc] = {t for t in names if mask >> number[t] & 1}
    before, named_before = c.before, c.named_before
    held = {}
    for row, found in c.matched.items():
        named = (set(found) & names.keys()) | named_before.get(before.get(row), set()) \
            | in_documents.get(c.records[row]["doc_id"], set())
        held[row] = sum(names[t] for t in named) / total
    return held


EVENT = Signal("event", "Share of the term weight of the question's names (words the corpus or "
               "the question capitalises) held by the passage, the one before it, or its "
               "document's title or first passage.", _event)
