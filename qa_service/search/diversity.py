"""After fusion: collapse near-duplicate passages and keep the top of the list varied."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from qa_service.words import TOKEN_RE

# Two passages whose word sets overlap this much are one text (a wire report printed
# by several outlets): the first stands for both and says where else it appears.
DUPLICATE_JACCARD = 0.7


@lru_cache(maxsize=1024)
def word_set(text: str) -> frozenset[str]:
    """The distinct words of a passage (cached: the same passages recur across questions)."""
    return frozenset(TOKEN_RE.findall(text.casefold()))


def collapse_duplicates(ranked: list[int], texts: dict[int, str], limit: int | None = None
                        ) -> dict[int, list[int]]:
    """Return {kept row: [rows it stands for]} for near-duplicates, best-ranked first.

    With a `limit`, only the first `limit` distinct rows gather copies: rows below them
    are never shown, so comparing them with each other would be wasted.
    """
    kept: list[tuple[int, frozenset[str]]] = []
    duplicates: dict[int, list[int]] = {}
    for row in ranked:
        words = word_set(texts[row])
        for first, first_words in kept:
            small, large = sorted((len(words), len(first_words)))
            if small < DUPLICATE_JACCARD * large:
                continue  # the overlap is at most the smaller set: too different in size
            union = len(words | first_words)
            if union and len(words & first_words) / union >= DUPLICATE_JACCARD:
                duplicates.setdefault(first, []).append(row)
                break
        else:
            if limit is None or len(kept) < limit:
                kept.append((row, words))
    return duplicates


def mmr(ranked: list[int], scores: dict[int, float], vectors: np.ndarray, k: int,
        weight: float) -> list[int]:
    """Maximal marginal relevance (Carbonell and Goldstein 1998): pick k rows, each time
    the one whose score, less its similarity to those already picked, is highest.

    `vectors` holds the unit vectors of `ranked`, in that order; weight 1 keeps the
    fused order.
    """
    if weight >= 1.0 or len(ranked) <= 1:
        return ranked[:k]
    similarity = vectors @ vectors.T
    chosen: list[int] = []
    left = list(range(len(ranked)))
    while left and len(chosen) < k:
        def gain(i: int) -> float:
            redundancy = max((similarity[i, j] for j in chosen), default=0.0)
            return weight * scores[ranked[i]] - (1 - weight) * redundancy
        best = max(left, key=gain)
        chosen.append(best)
        left.remove(best)
    return [ranked[i] for i in chosen]
