"""Lexical retrieval: question terms as an FTS5 query, ranked by BM25."""

from __future__ import annotations

import math
import re

from qa_service.ingest.normalize import normalize
from qa_service.store.passages import PassageStore

# Tokens as FTS5's unicode61 tokenizer sees them: runs of letters and digits.
_TOKEN_RE = re.compile(r"[^\W_]+")

# Function words and question words: they match nearly every passage, so an OR query
# over them costs time and adds noise that BM25's inverse document frequency only
# partly removes in a small corpus.
STOPWORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before
being below between both but by can could did do does doing done down during each either
few for from further get got had has have having he her here hers herself him himself his
how i if in into is it its itself just let many me might more most much must my myself no nor not
now of off on once only or other ought our ours ourselves out over own per same shall she
should so some such than that the their theirs them themselves then there these they this
those through to too under until up upon us very was we were what when where which while
who whom whose why will with would yet you your yours yourself yourselves
""".split())


def terms(text: str) -> list[str]:
    """Return the distinct content words of `text`, lower-cased, in order."""
    seen: dict[str, None] = {}
    for token in _TOKEN_RE.findall(normalize(text).casefold()):
        if token not in STOPWORDS and (len(token) > 1 or token.isdigit()):
            seen.setdefault(token, None)
    if not seen:  # a question made only of stopwords still deserves a lexical search
        for token in _TOKEN_RE.findall(normalize(text).casefold()):
            seen.setdefault(token, None)
    return list(seen)


def match_expression(words: list[str]) -> str:
    """Build an FTS5 query that matches any of `words` (each quoted: no operators)."""
    return " OR ".join(f'"{w}"' for w in words)


class LexicalSearch:
    """BM25 over the FTS5 table of a passage store."""

    def __init__(self, store: PassageStore):
        self.store = store

    def search(self, words: list[str], limit: int, where: tuple[str, list] | None = None
               ) -> dict[int, float]:
        """Return {row: bm25} for the best `limit` passages matching any of `words`."""
        if not words or limit <= 0:
            return {}
        return dict(self.store.bm25(match_expression(words), limit, where=where))

    def scores(self, words: list[str], rows: list[int]) -> dict[int, float]:
        """Return {row: bm25} of the given rows (rows that match nothing are left out)."""
        if not words or not rows:
            return {}
        return dict(self.store.bm25(match_expression(words), len(rows), rows))

    def term_weights(self, words: list[str]) -> dict[str, float]:
        """Return each word's inverse document frequency (smoothed, always positive)."""
        total = self.store.count("passages")
        return {w: math.log((total + 1) / (self.store.match_count(match_expression([w])) + 0.5))
                for w in words}

    def coverage(self, weights: dict[str, float], rows: list[int]
                 ) -> tuple[dict[int, float], dict[int, list[str]]]:
        """Return per row the share of the query's term weight it contains, and which
        of the terms it contains.

        A passage that holds the rare words of a question ("zhuz") likely speaks of its
        subject even when the embedding is unsure; one that lacks them ("France") likely
        does not.
        """
        found = dict.fromkeys(rows, 0.0)
        matched: dict[int, list[str]] = {row: [] for row in rows}
        total = sum(weights.values())
        if not total or not rows:
            return found, matched
        for word, weight in weights.items():
            for row, _ in self.store.bm25(match_expression([word]), len(rows), rows):
                found[row] += weight / total
                matched[row].append(word)
        return found, matched


def stem(word: str) -> str:
    """Cut a word to a crude stem, enough to match 'injured' with 'injuries'."""
    return word[:5] if len(word) > 5 else word


def term_share(text: str, weights: dict[str, float]) -> float:
    """Return the share of the weighted query terms that `text` contains (crudely stemmed)."""
    total = sum(weights.values())
    if not total:
        return 0.0
    present = {stem(t) for t in _TOKEN_RE.findall(normalize(text).casefold())}
    return sum(w for term, w in weights.items() if stem(term) in present) / total
