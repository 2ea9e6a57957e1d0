"""How likely it is that the first passage answers the question, from the candidates' signals.

The probability is fitted (train-ranker) on training questions asked of their own
collection (the first passage right or not), of their own collection with the documents
that answer them taken out (near misses), and of the others (off the topic); it compares
across questions, unlike any score scaled within one answer.
"""

from __future__ import annotations

from qa_service.search.learned import Calibration

Scores = dict[int, float]
# The ranker's own score, which a calibration may read beside the signals.
RANKER = "ranker"


def calibration_values(features: tuple[str, ...], signals: dict[str, Scores],
                       top: int | None) -> list[float]:
    """The values a calibration reads: `top.<signal>` of the best passage, `best.<signal>`
    over all candidates, `gap.<signal>`: the best passage's lead over the next candidate."""
    values = []
    for feature in features:
        kind, _, name = feature.partition(".")
        scores = signals.get(name, {})
        if kind == "top":
            values.append(float(scores.get(top, 0.0)) if top is not None else 0.0)
        elif kind == "gap":
            mine = scores.get(top, 0.0) if top is not None else 0.0
            rest = max((v for r, v in scores.items() if r != top), default=mine)
            values.append(float(mine - rest))
        else:
            values.append(float(max(scores.values(), default=0.0)))
    return values


def confidence(calibration: Calibration, signals: dict[str, Scores], top: int | None) -> float:
    """Return a calibration's probability (the first passage answers; the corpus answers)
    given the best passage `top` (None: none, 0)."""
    if top is None:
        return 0.0
    return calibration.probability(calibration_values(calibration.features, signals, top))
