"""Sentence evidence: each candidate's sentences scored by cosine and by the question's words.

The answering sentence is the one with the best cosine plus `highlight_terms` times the
share of the question's term weight it holds (RankingSettings).
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from qa_service.search.answer_type import holds
from qa_service.search.query import Query
from qa_service.store import Index, WordKeys
from qa_service.text import content_keys, key

TextSpan = tuple[int, int]
Sentences = list[tuple[TextSpan, float]]  # (start, end) in the text, cosine

# Passages come back for question after question (questions are seldom asked twice);
# bounded, as a long-running server sees passages without end in a large corpus.
passage_keys = lru_cache(maxsize=2048)(content_keys)


def sentence_scores(index: Index, records: dict, qvec: np.ndarray) -> dict[int, Sentences]:
    """Return, per passage row, its sentences' spans and cosines with the query."""
    spans = index.passages.sentence_spans(list(records))
    found: dict[int, Sentences] = {row: [] for row in records}
    if spans:
        scores = index.vectors.sentence_scores_at(qvec, [s[0] for s in spans])
        for (_, row, start, end), score in zip(spans, scores.tolist()):
            found[row].append(((start, end), score))
    for row, rec in records.items():
        if not found[row]:  # no sentence recorded: the whole passage stands for one
            found[row] = [((0, len(rec["text"])), 0.0)]
    return found


@dataclass
class Evidence:
    """The best sentence of a passage and how well it matches the question."""

    span: TextSpan
    share: float  # of the question's term weight it holds (best over the sentences)
    phrases: float  # share of the question's adjacent word pairs it holds, adjacent
    typed: bool  # the answering sentence holds the kind of answer asked for


class SentenceMatcher:
    """Match one question's terms against the sentences of candidate passages."""

    def __init__(self, query: Query, weights: dict[str, float], terms: dict[str, list[str]],
                 highlight_terms: float):
        self.total = sum(weights.values())
        self.weights = weights
        self.wanted = {t: {key(f) for f in terms[t]} for t in weights}
        self.pairs = query.pairs
        self.kind = query.answer_kind
        self.highlight_terms = highlight_terms

    def share(self, present: set[str]) -> float:
        """Share of the question's term weight among `present` word keys."""
        if not self.total:
            return 0.0
        return sum(self.weights[t] for t, keys in self.wanted.items()
                   if keys & present) / self.total

    def evidence(self, text: str, sentences: Sentences, word_keys: WordKeys | None = None
                 ) -> Evidence:
        """Score each (span, cosine) sentence of `text` and return the best one's evidence.

        `word_keys` are the offsets and keys of the text's content words, if known.
        """
        offsets, words = word_keys or passage_keys(text)
        best, best_score = None, float("-inf")
        top_share = top_phrases = 0.0
        for span, cosine in sentences:
            keys = words[bisect_left(offsets, span[0]):bisect_left(offsets, span[1])]
            share = self.share(set(keys))
            if self.pairs:
                found = len(self.pairs & set(zip(keys, keys[1:]))) / len(self.pairs)
                top_phrases = max(top_phrases, found)
            top_share = max(top_share, share)
            score = cosine + self.highlight_terms * share
            if score > best_score:
                best, best_score = span, score
        typed = holds(self.kind, text[best[0]:best[1]])
        return Evidence(best, top_share, top_phrases, typed)
