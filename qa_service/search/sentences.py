"""Sentence evidence: each candidate's sentences scored by cosine and by the question's words.

The answering sentence is the one with the best cosine plus `highlight_terms` times the
share of the question's term weight it holds (RankingSettings).
"""

from __future__ import annotations

from bisect import bisect_right
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


def sentence_scores(index: Index, records: dict, qvec: np.ndarray,
                    stored: dict[int, list[tuple[int, int]]] | None = None
                    ) -> dict[int, Sentences]:
    """Return, per passage row, its sentences' spans and cosines with the query.

    `stored`: each passage's sentence spans as the build stored them beside its keys
    (their rows follow the passage's first, `sent_first`); else they are looked up.
    """
    if stored is not None:
        spans = [(records[row]["sent_first"] + i, row, start, end) for row in sorted(records)
                 for i, (start, end) in enumerate(stored[row])]
    else:
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
    """Match one question's terms against the sentences of candidate passages.

    A passage is read once for the positions of the words that matter (the keys of the
    question's terms and of its word pairs); every sentence, and the passage as a whole,
    is then scored from those few positions rather than from all its words.
    """

    def __init__(self, query: Query, weights: dict[str, float], terms: dict[str, list[str]],
                 highlight_terms: float):
        self.total = sum(weights.values())
        self.weights = weights
        self.wanted = {t: {key(f) for f in terms[t]} for t in weights}
        # Terms by number, in the order of `weights`: shares are summed in that order.
        self.term_weights = list(weights.values())
        found: dict[str, set[int]] = {}
        for number, keys in enumerate(self.wanted.values()):
            for k in keys:
                found.setdefault(k, set()).add(number)
        self.terms_of = {k: frozenset(v) for k, v in found.items()}
        self.pairs = query.pairs
        self.tracked = frozenset(self.terms_of).union(*self.pairs)
        self.kind = query.answer_kind
        self.highlight_terms = highlight_terms

    def terms_in(self, present: set[str] | frozenset[str]) -> frozenset[int]:
        """The numbers of the terms one of whose keys is among `present`."""
        terms_of = self.terms_of
        return frozenset().union(*(terms_of[k] for k in present & terms_of.keys()))

    def share_of(self, terms: frozenset[int] | set[int]) -> float:
        """Share of the question's term weight held by the terms numbered `terms`."""
        if not self.total or not terms:
            return 0.0
        weights = self.term_weights
        return sum(weights[t] for t in sorted(terms)) / self.total

    def share(self, present: set[str] | frozenset[str]) -> float:
        """Share of the question's term weight among `present` word keys."""
        return self.share_of(self.terms_in(present))

    def positions(self, words: list[str] | tuple[str, ...]) -> list[int]:
        """Where in `words` (a passage's content-word keys) the words that matter are."""
        tracked = self.tracked
        return [i for i, w in enumerate(words) if w in tracked]

    def held(self, words: list[str] | tuple[str, ...], positions: list[int]) -> frozenset[int]:
        """The numbers of the question's terms that a passage's words hold."""
        terms_of = self.terms_of
        return frozenset().union(*(terms_of.get(words[p], ()) for p in positions))

    def evidence(self, text: str, sentences: Sentences, word_keys: WordKeys | None = None,
                 positions: list[int] | None = None) -> Evidence:
        """Score each (span, cosine) sentence of `text` and return the best one's evidence.

        `word_keys` are the offsets and keys of the text's content words, if known, and
        `positions` where among them the words that matter are.
        """
        offsets, words = word_keys or passage_keys(text)
        if positions is None:
            positions = self.positions(words)
        # Only sentences holding words that matter have a share: find them from those
        # words (a handful) rather than reading every sentence's words.
        starts = [span[0] for span, _ in sentences]
        held: dict[int, list[int]] = {}
        for p in positions:
            at = offsets[p]
            i = bisect_right(starts, at) - 1
            if i >= 0 and at < sentences[i][0][1]:
                held.setdefault(i, []).append(p)
        scores = [cosine for _, cosine in sentences]
        top_share = top_phrases = 0.0
        terms_of, pairs = self.terms_of, self.pairs
        for i, found in held.items():
            share = self.share_of(frozenset().union(*(terms_of.get(words[p], ()) for p in found)))
            top_share = max(top_share, share)
            scores[i] += self.highlight_terms * share
            if pairs:
                # A pair is two words that matter, side by side in the sentence.
                end = sentences[i][0][1]
                adjacent = {(words[p], words[p + 1]) for p in found
                            if p + 1 < len(words) and offsets[p + 1] < end}
                top_phrases = max(top_phrases, len(pairs & adjacent) / len(pairs))
        best = sentences[max(range(len(scores)), key=scores.__getitem__)][0]
        typed = holds(self.kind, text[best[0]:best[1]])
        return Evidence(best, top_share, top_phrases, typed)
