"""Title: how much of the question's term weight the passage's document title holds."""

from qa_service.search.candidates import Candidates, Scores
from qa_service.search.signals.base import Signal


def _title(c: Candidates) -> Scores:
    titles, matcher = c.title_keys, c.matcher
    shares = {doc: matcher.share(keys) for doc, keys in titles.items()}
    return {row: shares[rec["doc_id"]] for row, rec in c.records.items()}


TITLE = Signal("title", "Share of the question's term weight held by the title of the "
               "passage's document.", _title)
