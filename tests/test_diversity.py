"""Near-duplicates: folded by the Jaccard overlap of their word keys, best-ranked first."""

from __future__ import annotations

import random

import pytest

from qa_service.search.diversity import collapse_duplicates


def _by_definition(ranked, words_of, overlap, limit=None):
    """Each row joins the first kept row it overlaps enough; else it is kept (up to limit)."""
    kept, duplicates = [], {}
    for row in ranked:
        words = set(words_of[row])
        for first in kept:
            union = len(words | set(words_of[first]))
            if union and len(words & set(words_of[first])) / union >= overlap:
                duplicates.setdefault(first, []).append(row)
                break
        else:
            if limit is None or len(kept) < limit:
                kept.append(row)
    return duplicates


def test_copies_fold_into_the_best_ranked_one():
    words = {7: {"bomb", "almat", "polic", "kill"}, 3: {"bomb", "almat", "polic", "kill", "five"},
             9: {"weath", "rain"}, 1: set()}
    assert collapse_duplicates([7, 9, 3, 1], words, 0.7) == {7: [3]}
    assert collapse_duplicates([3, 7], words, 0.9) == {}  # 4 of 5 shared: 0.8


@pytest.mark.parametrize("seed", range(5))
def test_folding_matches_the_definition_on_random_sets(seed):
    rnd = random.Random(seed)
    for _ in range(200):
        themes = [set(rnd.sample(range(30), rnd.randint(0, 12))) for _ in range(3)]
        words = {}
        for row in range(rnd.randint(0, 10)):
            found = set(rnd.choice(themes)) ^ {rnd.randrange(30) for _ in range(rnd.randint(0, 3))}
            words[row] = frozenset(map(str, found))
        ranked = rnd.sample(list(words), len(words))
        for overlap in (0.5, 0.7, 1.0):
            for limit in (None, 2):
                assert collapse_duplicates(ranked, words, overlap, limit) == _by_definition(
                    ranked, words, overlap, limit)
