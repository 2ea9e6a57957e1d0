"""Check held-out confidences and rankings: reliability bins, calibration error, by kind.

A confidence of 0.9 must mean that 9 answers in 10 shown with it have a right first
passage; the reliability table shows, per confidence bin, the share that do, and the
expected calibration error weighs each bin's gap by its share of the answers.
"""

from __future__ import annotations

import re

import numpy as np

BINS = 10  # equal-width confidence bins
# The kind of a question by its question word, for a report (never a ranking feature):
# the first that matches, in this order.
KINDS = (
    ("how many", re.compile(r"\bhow (many|much)\b", re.I)),
    ("when", re.compile(r"\bwhen\b|\bwhat (year|date|day|month|time)\b", re.I)),
    ("where", re.compile(r"\bwhere\b", re.I)),
    ("who", re.compile(r"\bwho(m|se)?\b", re.I)),
    ("why", re.compile(r"\bwhy\b", re.I)),
    ("what", re.compile(r"\b(what|which)\b", re.I)),
)


def question_kind(text: str) -> str:
    """Return a question's kind by its question word (who, when, where, how many, what,
    why), or "other" (a claim, a clue without a question word)."""
    for kind, pattern in KINDS:
        if pattern.search(text):
            return kind
    return "other"


def reliability(confidence: np.ndarray, right: np.ndarray, bins: int = BINS) -> dict:
    """Return the reliability table (per bin: answers, mean confidence, share right), the
    expected calibration error, and the share right among answers at >= 0.9."""
    confidence = np.asarray(confidence, dtype=np.float64)
    right = np.asarray(right, dtype=bool)
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    table, ece = [], 0.0
    for b in range(bins):
        inside = which == b
        n = int(inside.sum())
        if not n:
            continue
        mean, share = float(confidence[inside].mean()), float(right[inside].mean())
        ece += n / len(confidence) * abs(mean - share)
        table.append({"bin": f"{b / bins:.1f}-{(b + 1) / bins:.1f}", "answers": n,
                      "confidence": round(mean, 4), "right": round(share, 4)})
    high = confidence >= 0.9
    return {"bins": table, "ece": round(ece, 4), "answers": int(len(confidence)),
            "at_0.9": {"answers": int(high.sum()),
                       "right": round(float(right[high].mean()), 4) if high.any() else None}}


def declines(confidence: np.ndarray, groups: dict[str, np.ndarray],
             thresholds: tuple[float, ...]) -> list[dict]:
    """For each threshold, the share of each group of questions declined (confidence
    below it): where a threshold trades answered questions for declined near misses."""
    return [{"threshold": t, **{name: round(float(np.mean(confidence[idx] < t)), 4)
                                if len(idx) else None for name, idx in groups.items()}}
            for t in thresholds]
