"""Context: the question's words in the passage read with its document's title and lead.

A report names its place and subject in the title and first paragraph, then stops
repeating them: "killed five" answers "how many died in Almaty?" in a report whose lead
says Almaty.
"""

from qa_service.search.candidates import Candidates, Scores
from qa_service.search.signals.base import Signal


def _context(c: Candidates) -> Scores:
    titles, leads, held, matcher = c.title_keys, c.lead_keys, c.held, c.matcher
    documents = {doc: matcher.terms_in(keys | leads.get(doc, set()))
                 for doc, keys in titles.items()}
    return {row: matcher.share_of(documents[rec["doc_id"]] | held[row])
            for row, rec in c.records.items()}


CONTEXT = Signal("context", "Share of the question's term weight held by the passage, its "
                 "document's title and its document's first passage together.", _context)
