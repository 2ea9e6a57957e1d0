"""Title: how much of the question's term weight the passage's document title holds."""

from qa_service.search.candidates import Candidates, Scores
from qa_service.search.signals.base import Signal


def _title(c: Candidates) -> Scores:
    shares: dict[str, float] = {}
    found = {}
    for row, rec in c.records.items():
        title = rec["title"] or ""
        if title not in shares:
            shares[title] = c.share(c.keys(title))
        found[row] = shares[title]
    return found


TITLE = Signal("title", "Share of the question's term weight held by the title of the "
               "passage's document.", _title)
