"""Term evidence within sentences: which sentence holds the question's words together."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from qa_service.search import answer_type
from qa_service.words import STOPWORDS, TOKEN_RE, fold, stem

# The answering sentence is the one with the best cosine plus this much of the share of
# the question's term weight it holds: of two sentences on the topic, the one holding the
# question's rarer words ("injured" rather than "Aktobe") is the answer.
TERM_WEIGHT = 0.6

Span = tuple[int, int]


@lru_cache(maxsize=65536)
def word_key(token: str) -> str:
    """The crude stem of a folded word (cached: the same words recur across passages)."""
    return stem(fold(token))


@lru_cache(maxsize=65536)
def _content_key(token: str) -> str | None:
    """The key of a content word; None for a stopword."""
    folded = fold(token)
    return None if folded in STOPWORDS else stem(folded)


@lru_cache(maxsize=4096)
def _content_keys(text: str) -> tuple[tuple[int, str], ...]:
    """(offset, key) of each content word of `text`, in order (cached: the same
    passages come back for question after question)."""
    found = ((m.start(), _content_key(m.group())) for m in TOKEN_RE.finditer(text))
    return tuple((at, key) for at, key in found if key is not None)


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
        self.wanted = {t: {word_key(f) for f in forms} for t, forms in terms.items()
                       if t in weights}
        keys = [k for _, k in _content_keys(question)]
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
        words = _content_keys(text)
        best, best_score = None, float("-inf")
        top_share = top_phrases = 0.0
        for span, cosine in sentences:
            keys = [k for at, k in words if span[0] <= at < span[1]]
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
