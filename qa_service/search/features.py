"""Features of each candidate for a learned ranker: every signal, seen against the others.

A signal's raw value says little on its own (BM25 grows with the corpus, cosines differ by
topic), so each one also comes as its share of the best candidate's, its distance from
it and its rank; the best value itself tells the ranker how sure that signal is for this
question, which is what lets it learn when to trust which.
"""

from __future__ import annotations

import numpy as np

Scores = dict[int, float]
# What each signal contributes, per candidate.
ASPECTS = ("value", "of_best", "gap", "rank", "best")


def feature_names(signals: list[str] | tuple[str, ...]) -> list[str]:
    """Name every feature column, in order: each signal's aspects."""
    return [f"{s}.{a}" for s in signals for a in ASPECTS]


def feature_columns(values: dict[str, np.ndarray], names: list[str] | tuple[str, ...],
                    n: int) -> np.ndarray:
    """Return the features of `n` candidates from each signal's values (absent: 0)."""
    columns = []
    for name in names:
        value = np.asarray(values.get(name, np.zeros(n)), dtype=np.float64)
        best = value.max() if n else 0.0
        # Tied candidates share a rank: 1 + how many score strictly higher.
        rank = n - np.searchsorted(np.sort(value), value, side="right") + 1.0
        columns += [value, value / best if best > 0 else np.zeros(n), value - best, rank,
                    np.full(n, best)]
    return np.column_stack(columns) if n else np.zeros((0, len(feature_names(names))))


def feature_matrix(signals: dict[str, Scores], rows: list[int],
                   names: list[str] | tuple[str, ...]) -> np.ndarray:
    """Return one row of features per candidate (rows in the given order)."""
    n = len(rows)
    values = {name: np.fromiter((signals.get(name, {}).get(r, 0.0) for r in rows),
                                dtype=np.float64, count=n) for name in names}
    return feature_columns(values, names, n)
