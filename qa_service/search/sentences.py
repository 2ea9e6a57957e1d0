"""Term evidence within sentences: which sentence holds the question's words together."""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache

from qa_service.search import answer_type
from qa_service.words import STOPWORDS, TOKEN_RE, fold, stem

# The answering sentence is the one with the best cosine plus this much of the share of
# the question's term weight it holds: of two sentences on the topic, the one holding the
# question's rarer words ("injured" rather than "Aktobe") is the answer.
TERM_WEIGHT = 0.6

Span = tuple[int, int]


# Caches are bounded: questions bring words without end (names, numbers, typos), and a
# cache that grew with them would be a slow leak in a long-running server.
@lru_cache(maxsize=4096)
def word_key(token: str) -> str:
    """The crude stem of a folded word (cached: the same words recur across passages)."""
    return stem(fold(token))


@lru_cache(maxsize=16384)
def _content_key(token: str) -> str | None:
    """The key of a content word; None for a stopword."""
    folded = fold(token)
    return None if folded in STOPWORDS else stem(folded)


def _content_keys(text: str) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """Offsets and keys of the content words of `text`, in order."""
    found = [(m.start(), _content_key(m.group())) for m in TOKEN_RE.finditer(text)]
    found = [(at, key) for at, key in found if key is not None]
    return tuple(at for at, _ in found), tuple(key for _, key in found)


# Passages come back for question after question; questions are seldom asked twice.
_passage_keys = lru_cache(maxsize=2048)(_content_keys)


@dataclass
class Evidence:
    """The best sentence of a passage and how well it matches the question."""

    span: Span
    share: float  # of the question's term weight it holds (best over the sentences)
    phrases: float  # share of the question's adjacent word pairs it holds, adjacent
    typed: bool  # the answering sentence holds the kind of answer asked for


class SentenceMatcher:
    """Match one question's terms against the sentences of candidate passages."""

    def __init__(self, question: str, weights: dict[str, float], terms: dict[str, list[str]]):
        self.total = sum(weights.values())
        self.weights = weights
        self.wanted = {t: {word_key(f) for f in terms[t]} for t in weights}
        keys = list(_content_keys(question)[1])
        self.pairs = set(zip(keys, keys[1:]))
        self.kind = answer_type.expected(question)

    def share(self, present: set[str]) -> float:
        """Share of the question's term weight among `present` word keys."""
        if not self.total:
            return 0.0
        return sum(self.weights[t] for t, keys in self.wanted.items()
                   if keys & present) / self.total

    def evidence(self, text: str, sentences: list[tuple[Span, float]]) -> Evidence:
        """Score each (span, cosine) sentence of `text` and return the best one's evidence."""
        offsets, words = _passage_keys(text)
        best, best_score = None, float("-inf")
        top_share = top_phrases = 0.0
        for span, cosine in sentences:
            keys = words[bisect_left(offsets, span[0]):bisect_left(offsets, span[1])]
            share = self.share(set(keys))
            if self.pairs:
                found = len(self.pairs & set(zip(keys, keys[1:]))) / len(self.pairs)
                top_phrases = max(top_phrases, found)
            top_share = max(top_share, share)
            score = cosine + TERM_WEIGHT * share
            if score > best_score:
                best, best_score = span, score
        typed = answer_type.holds(self.kind, text[best[0]:best[1]])
        return Evidence(best, top_share, top_phrases, typed)
