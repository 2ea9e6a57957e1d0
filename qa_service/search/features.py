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
    if not n:
        return np.zeros((0, len(feature_names(names))))
    # All signals at once, one row each: a loop of small numpy calls per signal cost as
    # much as the ranker's prediction.
    value = np.zeros((len(names), n))
    for i, name in enumerate(names):
        if name in values:
            value[i] = values[name]
    best = value.max(axis=1, keepdims=True)
    positive = best > 0
    of_best = np.divide(value, best, out=np.zeros_like(value), where=positive)
    rank = _ranks(value)
    aspects = (value, of_best, value - best, rank, np.broadcast_to(best, value.shape))
    # (signals, aspects, candidates) -> one row per candidate, each signal's aspects in turn
    return np.stack(aspects, axis=1).transpose(2, 0, 1).reshape(n, -1)


def _ranks(value: np.ndarray) -> np.ndarray:
    """Rank each row's values, best first; tied values share a rank: 1 + how many score
    strictly higher (a sort a row, not a comparison of every pair)."""
    order = np.argsort(-value, axis=1, kind="stable")
    ordered = np.take_along_axis(value, order, axis=1)
    places = np.broadcast_to(np.arange(value.shape[1]), value.shape)
    opens = np.ones(value.shape, dtype=bool)  # where a run of equal values begins
    opens[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    first = np.maximum.accumulate(np.where(opens, places, 0), axis=1)
    rank = np.empty(value.shape)
    np.put_along_axis(rank, order, first + 1.0, axis=1)
    return rank


def feature_matrix(signals: dict[str, Scores], rows: list[int],
                   names: list[str] | tuple[str, ...]) -> np.ndarray:
    """Return one row of features per candidate (rows in the given order)."""
    n = len(rows)
    values = {name: np.fromiter((signals.get(name, {}).get(r, 0.0) for r in rows),
                                dtype=np.float64, count=n) for name in names}
    return feature_columns(values, names, n)
