"""Sentence evidence: each candidate's sentences scored by cosine and by the question's words.

The answering sentence is the one with the best cosine plus `highlight_terms` times the
share of the question's term weight it holds (RankingSettings).
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from qa_service.search.answer_type import answers, holds
from qa_service.search.query import Query
from qa_service.store import Index, Spans, TypedSpans, WordKeys
from qa_service.text import content_keys, key

TextSpan = tuple[int, int]
Sentences = list[tuple[TextSpan, float]]  # (start, end) in the text, cosine

# Passages come back for question after question (questions are seldom asked twice);
# bounded, as a long-running server sees passages without end in a large corpus.
passage_keys = lru_cache(maxsize=2048)(content_keys)


def sentence_scores(index: Index, records: dict, qvec: np.ndarray,
                    stored: dict[int, Spans] | None = None) -> dict[int, Sentences]:
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
    is then scored from those few positions rather than from all its words. A set of the
    question's terms is a bit mask (bit n: its n-th term), and each mask's share is
    worked out once.
    """

    def __init__(self, query: Query, weights: dict[str, float], terms: dict[str, list[str]],
                 highlight_terms: float):
        self.total = sum(weights.values())
        # Terms by number, in the order of `weights`: shares are summed in that order.
        self.term_weights = list(weights.values())
        self.numbers = {term: number for number, term in enumerate(weights)}  # its bit
        self.bits: dict[str, int] = {}  # a key -> the mask of the terms it is a form of
        for number, term in enumerate(weights):
            for k in {key(f) for f in terms[term]}:
                self.bits[k] = self.bits.get(k, 0) | 1 << number
        self.pairs = query.pairs
        self.tracked = frozenset(self.bits).union(*self.pairs)
        self.kind = query.answer_kind
        self.highlight_terms = highlight_terms
        self._shares: dict[int, float] = {0: 0.0}

    def terms_in(self, present: set[str] | frozenset[str]) -> int:
        """The mask of the terms one of whose keys is among `present`."""
        bits, mask = self.bits, 0
        for k in present & bits.keys():
            mask |= bits[k]
        return mask

    def share_of(self, mask: int) -> float:
        """Share of the question's term weight held by the terms of `mask`."""
        share = self._shares.get(mask)
        if share is None:
            weights = self.term_weights
            share = sum(weights[t] for t in range(len(weights)) if mask >> t & 1) / self.total \
                if self.total else 0.0
            self._shares[mask] = share
        return share

    def share(self, present: set[str] | frozenset[str]) -> float:
        """Share of the question's term weight among `present` word keys."""
        return self.share_of(self.terms_in(present))

    def positions(self, words: list[str] | tuple[str, ...]) -> list[int]:
        """Where in `words` (a passage's content-word keys) the words that matter are."""
        tracked = self.tracked
        return [i for i, w in enumerate(words) if w in tracked]

    def held(self, words: list[str] | tuple[str, ...], positions: list[int]) -> int:
        """The mask of the question's terms that a passage's words hold."""
        bits, mask = self.bits, 0
        for p in positions:
            mask |= bits.get(words[p], 0)
        return mask

    def evidence(self, text: str, sentences: Sentences, word_keys: WordKeys | None = None,
                 positions: list[int] | None = None,
                 types: TypedSpans | None = None) -> Evidence:
        """Score each (span, cosine) sentence of `text` and return the best one's evidence.

        `word_keys` are the offsets and keys of the text's content words, if known, and
        `positions` where among them the words that matter are; `types` the text's typed
        spans as the build stored them (None: none stored, the text is read by pattern).
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
        pairs = self.pairs
        for i, found in held.items():
            share = self.share_of(self.held(words, found))
            top_share = max(top_share, share)
            scores[i] += self.highlight_terms * share
            if pairs:
                # A pair is two words that matter, side by side in the sentence.
                end = sentences[i][0][1]
                adjacent = {(words[p], words[p + 1]) for p in found
                            if p + 1 < len(words) and offsets[p + 1] < end}
                top_phrases = max(top_phrases, len(pairs & adjacent) / len(pairs))
        best = sentences[max(range(len(scores)), key=scores.__getitem__)][0]
        if types is not None:
            typed = answers(self.kind, types, best[0], best[1])
        else:
            typed = holds(self.kind, text[best[0]:best[1]])
        return Evidence(best, top_share, top_phrases, typed)
