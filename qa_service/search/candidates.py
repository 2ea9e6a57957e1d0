"""The candidate passages of one question, and what every signal reads about them.

Retrieval gives each candidate its dense and lexical scores; everything else (term
weights, the terms each passage holds, sentence cosines, the answering sentence, the
document's title and lead) is worked out once, on first use, and shared by the signals.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from qa_service.config import RankingSettings
from qa_service.encoders import Encoder
from qa_service.search.alike import Alike
from qa_service.search.lexical import LexicalSearch, Terms
from qa_service.search.query import Query
from qa_service.search.sentences import (
    Evidence,
    SentenceMatcher,
    Sentences,
    passage_keys,
    sentence_scores,
)
from qa_service.store import Index, TypedSpans, WordKeys
from qa_service.text import fold

Scores = dict[int, float]  # passage row -> a signal's value


class Candidates:
    """The passages gathered for one analysed question, with lazily derived evidence."""

    def __init__(self, query: Query, qvec: np.ndarray, rows: list[int], index: Index,
                 lexical: LexicalSearch, terms: Terms, retrieved: dict[str, Scores],
                 ranking: RankingSettings, removed: list[int] | None = None,
                 encoder: Encoder | None = None):
        self.query = query
        self.qvec = qvec
        self.rows = rows
        self.index = index
        self.store = index.passages
        self.lexical = lexical
        self.terms = terms  # question and history words -> their forms in the corpus
        self.retrieved = retrieved  # "dense", "lexical": the scores retrieval gave
        self.ranking = ranking
        # Passages of the corpus that count as absent (training's near misses: the
        # documents that answer the question taken out), for what the corpus holds.
        self.removed = removed or []
        self.encoder = encoder  # for question words the corpus's word vectors lack

    @cached_property
    def records(self) -> dict:
        """Each candidate's passage record, with its document's metadata."""
        return self.store.passages(self.rows, keys=True)

    @cached_property
    def idf(self) -> dict[str, float]:
        """Each term's inverse document frequency."""
        return self.lexical.term_weights(self.terms)

    @cached_property
    def weights(self) -> dict[str, float]:
        """Each term's weight: its idf, times the history's weight for words only the
        history brings."""
        if not self.query.history:
            return self.idf
        own, scale = set(self.query.question_terms), self.query.history_weight
        return {t: w if t in own else w * scale for t, w in self.idf.items()}

    @cached_property
    def matched(self) -> dict[int, list[str]]:
        """The terms each candidate passage holds (any of their forms, stemmed by FTS)."""
        return self.lexical.matched_terms(self.weights, self.terms, self.rows)

    @cached_property
    def sentences(self) -> dict[int, Sentences]:
        """Each candidate's sentences with their cosines to the question."""
        return sentence_scores(self.index, self.records, self.qvec, self.stored_keys[1])

    @cached_property
    def alike(self) -> Alike | None:
        """The question's terms with their word vectors (None: the index has none)."""
        words = self.index.words
        if words is None or not words.available:
            return None
        return Alike(self.weights, words, self.encoder)

    @cached_property
    def alike_shares(self) -> tuple[dict[int, float], dict[int, float]] | None:
        """Each candidate's share of the question's words met by words of like meaning,
        in its best sentence and in the passage or its title (None: no word vectors)."""
        if self.alike is None or not self.records:
            return None
        spans = {row: [span for span, _ in self.sentences[row]] for row in self.records}
        return self.alike.passage_shares(self.records, spans, self.matched)

    @cached_property
    def matcher(self) -> SentenceMatcher:
        return SentenceMatcher(self.query, self.weights, self.terms,
                               self.ranking.highlight_terms)

    @cached_property
    def stored_keys(self) -> tuple[dict[int, WordKeys], dict | None]:
        """Each candidate's word keys, and its sentence spans where the build stored them."""
        return self.store.record_keys(self.records)

    @cached_property
    def word_keys(self) -> dict[int, WordKeys]:
        """Each candidate's content words: their offsets and keys."""
        return self.stored_keys[0]

    @cached_property
    def positions(self) -> dict[int, list[int]]:
        """Where among each candidate's content words the question's words are."""
        matcher = self.matcher
        return {row: matcher.positions(words) for row, (_, words) in self.word_keys.items()}

    @cached_property
    def held(self) -> dict[int, int]:
        """The question's terms each candidate holds (as the matcher's bit mask)."""
        matcher, keys = self.matcher, self.word_keys
        return {row: matcher.held(keys[row][1], found) for row, found in self.positions.items()}

    @cached_property
    def stored_types(self) -> dict[int, TypedSpans] | None:
        """Each candidate's typed spans as the build stored them (None: it stored none,
        or the setting `answer_types` is off, which ignores any it stored)."""
        if not self.ranking.answer_types:
            return None
        return self.store.record_types(self.records)

    @cached_property
    def evidence(self) -> dict[int, Evidence]:
        """Each candidate's answering sentence and how well it matches the question."""
        types = self.stored_types if self.query.answer_kind is not None else None
        return {row: self.matcher.evidence(rec["text"], self.sentences[row],
                                           self.word_keys[row], self.positions[row],
                                           None if types is None else types[row])
                for row, rec in self.records.items()}

    @cached_property
    def stored_documents(self) -> dict[str, tuple[list[str], list[str]]]:
        """Each candidate document's title keys and first passage's keys, as the build
        stored them (empty for an index built before it did)."""
        return self.store.record_documents(self.records)

    @cached_property
    def title_keys(self) -> dict[str, set[str]]:
        """The word keys of each candidate document's title."""
        if self.stored_documents:
            return {doc: set(title) for doc, (title, _) in self.stored_documents.items()}
        return {rec["doc_id"]: self.keys(rec["title"] or "") for rec in self.records.values()}

    @cached_property
    def lead_keys(self) -> dict[str, set[str]]:
        """The word keys of the first passage of each candidate's document."""
        if self.stored_documents:
            return {doc: set(lead) for doc, (_, lead) in self.stored_documents.items()}
        leads = self.store.leads(sorted({rec["doc_id"] for rec in self.records.values()}))
        known = self.word_keys
        missing = [row for row in leads.values() if row not in known]
        found = {**known, **self.store.word_keys(missing)}
        return {doc: set(found[row][1]) for doc, row in leads.items()}

    @cached_property
    def names(self) -> dict[str, float]:
        """The question's names with their weights: words the corpus mostly capitalises
        (`name_share` of their uses, so "grozin" typed in lower case counts)."""
        shares = self.store.capitalized([fold(t) for t in self.weights])
        return {t: w for t, w in self.weights.items()
                if shares.get(fold(t), 0.0) >= self.ranking.name_share}

    @cached_property
    def question_names(self) -> dict[str, float]:
        """The corpus's names among the question's words, and the words the question
        itself capitalises, which the corpus may never mention ("died in Almaty")."""
        named = dict(self.names)
        for term in self.query.capitalised:
            if term in self.weights:
                named.setdefault(term, self.weights[term])
        return named

    def held_anywhere(self, term: str) -> bool:
        """Whether some passage of the corpus (bar the removed) holds any form of `term`."""
        count = self.lexical.match_count(self.terms[term])
        if count and self.removed:
            count -= len(self.lexical.matching(self.terms[term], self.removed))
        return count > 0

    @cached_property
    def before(self) -> dict[int, int]:
        """The passage just before each candidate in the same document: reports name
        someone once and then say "he" or "the shop"."""
        before = {row: row - 1 for row in self.rows if row > 0}
        docs = self.store.doc_ids(sorted(set(before.values())))
        return {row: prev for row, prev in before.items()
                if docs.get(prev) == self.records[row]["doc_id"]}

    @cached_property
    def named_before(self) -> dict[int, set[str]]:
        """The question's names that each candidate's passage before holds."""
        found: dict[int, set[str]] = {prev: set() for prev in self.before.values()}
        if found:
            for name in self.question_names:
                for prev in self.lexical.matching(self.terms[name], list(found)):
                    found[prev].add(name)
        return found

    def keys(self, text: str) -> set[str]:
        """The word keys of the content words of `text` (cached: texts recur)."""
        return set(passage_keys(text)[1])

    def share(self, keys: set[str]) -> float:
        """Share of the question's term weight whose words are among `keys`."""
        return self.matcher.share(keys)
