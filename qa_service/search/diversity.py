"""After fusion: collapse near-duplicate passages and keep the top of the list varied."""

from __future__ import annotations

from collections.abc import Collection

import numpy as np


def collapse_duplicates(ranked: list[int], words_of: dict[int, Collection[str]],
                        overlap: float, limit: int | None = None) -> dict[int, list[int]]:
    """Return {kept row: [rows it stands for]} for near-duplicates, best-ranked first.

    Two passages whose sets of word keys overlap by `overlap` (Jaccard) or more are one
    text (a wire report printed by several outlets). With a `limit`, only the first
    `limit` distinct rows gather copies: rows below them are never shown, so comparing
    them with each other would be wasted.
    """
    similar = _similar(ranked, words_of, overlap)
    kept: list[int] = []  # positions in `ranked`
    duplicates: dict[int, list[int]] = {}
    for i, row in enumerate(ranked):
        near = similar[i]
        first = next((k for k in kept if near[k]), None)
        if first is not None:
            duplicates.setdefault(ranked[first], []).append(row)
        elif limit is None or len(kept) < limit:
            kept.append(i)
    return duplicates


def _similar(ranked: list[int], words_of: dict[int, Collection[str]], overlap: float
             ) -> list[list[bool]]:
    """Say of every two rows whether their key sets overlap by `overlap` or more.

    Every pair's shared count comes from one product of the rows' key-membership matrix,
    rather than a set intersection per pair (435 of them for a pool of 30).
    """
    vocabulary: dict[str, int] = {}
    columns = [[vocabulary.setdefault(w, len(vocabulary)) for w in set(words_of[row])]
               for row in ranked]
    member = np.zeros((len(ranked), len(vocabulary)), dtype=np.float32)
    for i, found in enumerate(columns):
        member[i, found] = 1.0
    shared = (member @ member.T).astype(np.float64)  # counts: exact in float32 below 2**24
    sizes = np.diag(shared)
    union = sizes[:, None] + sizes[None, :] - shared
    with np.errstate(divide="ignore", invalid="ignore"):
        return ((union > 0) & (shared / union >= overlap)).tolist()


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


def crowd(rows: list[int], doc_of: dict[int, str], per_document: int) -> list[int]:
    """Keep the order, but move each document's passages past the first `per_document`
    of them behind the others' (0: no limit)."""
    if per_document <= 0:
        return rows
    seen: dict[str, int] = {}
    first, later = [], []
    for row in rows:
        doc = doc_of[row]
        seen[doc] = seen.get(doc, 0) + 1
        (first if seen[doc] <= per_document else later).append(row)
    return first + later
