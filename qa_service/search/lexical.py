"""Lexical retrieval: question terms (with their names' other spellings) as FTS5 queries,
ranked by BM25, and the share of the question's term weight a passage holds."""

from __future__ import annotations

import heapq
import math

from qa_service.config import RankingSettings
from qa_service.store import Lexicon, Matches, PassageStore
from qa_service.text import are_variants, fold, may_have_variants, variant_key

# Up to this many matches, a question's lexical candidates and scores come from one read of
# them all (see LexicalSearch.search); past it, from two ranked queries.
WHOLE_LIMIT = 10_000

Terms = dict[str, list[str]]  # a query word -> its forms: itself and its spelling variants


def match_expression(words: list[str] | tuple[str, ...]) -> str:
    """Build an FTS5 query that matches any of `words` (each quoted: no operators)."""
    return " OR ".join(f'"{w}"' for w in words)


def forms(terms: Terms) -> list[str]:
    """Every form of every term, once."""
    return list(dict.fromkeys(f for group in terms.values() for f in group))


class LexicalSearch:
    """BM25 over the FTS5 table of a passage store."""

    def __init__(self, store: PassageStore, ranking: RankingSettings,
                 lexicon: Lexicon | None = None):
        self.store = store
        self.lexicon = lexicon  # BM25 from memory, equal to FTS5's (None: FTS5 alone)
        self.ranking = ranking
        self.column_weights = (ranking.bm25_title, ranking.bm25_text)

    def search(self, words: list[str], limit: int, where: tuple[str, list] | None = None,
               also: list[int] | tuple[int, ...] = ()) -> tuple[dict[int, float],
                                                              dict[int, float]]:
        """Return {row: bm25} for the best `limit` passages matching any of `words`, and
        {row: bm25} for those of the rows `also` that match them.

        Unfiltered, the scores come from the index's postings in memory (store.lexicon),
        equal to FTS5's. Else from FTS5, whose query that ranks by BM25 first reads every
        match of every word (for the words' frequencies): when there are few enough
        matches, one query reads them all and both answers come from it, rather than a
        ranked query and a second one.
        """
        if not words or limit <= 0:
            return {}, {}
        matches = self._from_memory(words) if where is None else None
        if matches is not None:
            return matches.top(limit), matches.of(also)
        match = match_expression(words)
        every = self.store.bm25_all(match, WHOLE_LIMIT, where=where,
                                    weights=self.column_weights)
        if every is not None:
            top = heapq.nlargest(limit, every.items(), key=lambda item: (item[1], -item[0]))
            return dict(top), {row: every[row] for row in also if row in every}
        top = dict(self.store.bm25(match, limit, where=where, weights=self.column_weights))
        found = {row: top[row] for row in also if row in top}
        found.update(self.scores(words, [row for row in also if row not in top]))
        return top, found

    def scores(self, words: list[str], rows: list[int]) -> dict[int, float]:
        """Return {row: bm25} of the given rows (rows that match nothing are left out)."""
        if not words or not rows:
            return {}
        matches = self._from_memory(words)
        if matches is not None:
            return matches.of(rows)
        return dict(self.store.bm25(match_expression(words), len(rows), rows,
                                    weights=self.column_weights))

    def _from_memory(self, words: list[str]) -> Matches | None:
        return self.lexicon.bm25(words, self.column_weights) if self.lexicon is not None \
            else None

    def match_count(self, words: list[str]) -> int:
        """Return how many passages hold any of `words`."""
        count = self.lexicon.document_count(words) if self.lexicon is not None else None
        if count is not None:
            return count
        return self.store.match_count(match_expression(words))

    def matching(self, words: list[str], rows: list[int]) -> list[int]:
        """Return which of `rows` hold any of `words`."""
        held = self.lexicon.holds(words, rows) if self.lexicon is not None else None
        if held is not None:
            return held
        return self.store.matching(match_expression(words), rows)

    def expand(self, words: list[str] | tuple[str, ...]) -> Terms:
        """Map each word to its forms: itself and the corpus's other spellings of it.

        Transliterated names come in several spellings (Aktobe/Aqtobe, Tokayev/Toqaev);
        a question in one should find reports in another. Names only: a word the corpus
        mostly writes in lower case ("police") is not expanded, and only words it mostly
        capitalises are offered, within a few edits and with the same phonetic key.
        """
        terms: Terms = {w: [w] for w in words}
        keys = {w: variant_key(w) for w in words if may_have_variants(w)}
        if not keys or not self.store.has_vocabulary:
            return terms
        vocabulary = self.store.vocabulary(sorted(set(keys.values())))
        name_share = self.ranking.name_share
        names = [v for v, share in vocabulary.items() if (share or 0) >= name_share]
        for word in keys:
            own = vocabulary.get(fold(word))
            if own is not None and own < name_share:
                continue  # the corpus uses this word as a common word
            terms[word] += [v for v in names
                            if are_variants(word, v, self.ranking.variant_edits)]
        return terms

    def term_weights(self, terms: Terms) -> dict[str, float]:
        """Return each term's inverse document frequency (smoothed, always positive)."""
        total = self.store.passage_count
        return {
            word: math.log((total + 1) / (self.match_count(group) + 0.5))
            for word, group in terms.items()
        }

    def matched_terms(self, weights: dict[str, float], terms: Terms, rows: list[int]
                      ) -> dict[int, list[str]]:
        """Return per row which of the weighted terms it holds (any of their forms); the
        coverage signal weighs them."""
        matched: dict[int, list[str]] = {row: [] for row in rows}
        if not sum(weights.values()):
            return matched
        for word in weights:
            for row in self.matching(terms[word], rows):
                matched[row].append(word)
        return matched
