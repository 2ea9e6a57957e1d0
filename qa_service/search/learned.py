"""The learned ranker and answerability model, read from the text file `train-ranker` writes.

The file (JSON) records what it was trained on, with which seed and command, the ranker
(a LightGBM LambdaMART model in LightGBM's own text format) and the classifier that turns
the candidates' signals into a probability that the corpus answers the question.
"""

from __future__ import annotations

import json
import math
import threading
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np

from qa_service.errors import InvalidInput
from qa_service.search.features import feature_matrix

FORMAT = 1
SHIPPED = "ranker.json"  # in qa_service/search/models/


def scale_rows(scores: np.ndarray, sure: float) -> np.ndarray:
    """The passage scale's inputs for a question's candidates: the ranker's score, its
    distance from the best one, and the question's confidence as log-odds."""
    sure = min(max(sure, 1e-6), 1 - 1e-6)
    return np.column_stack([scores, scores - scores.max(),
                            np.full(len(scores), math.log(sure / (1 - sure)))])


class Calibration:
    """P(the corpus answers the question): a small LightGBM classifier whose every feature
    can only raise the probability as it grows (monotone), over `features`."""

    def __init__(self, features: list[str], model: str):
        import lightgbm

        self.features = tuple(features)
        self.booster = lightgbm.Booster(model_str=model)
        self._lock = threading.Lock()

    def probability(self, values: list[float]) -> float:
        row = np.asarray([values], dtype=np.float64)
        with self._lock:
            return float(self.booster.predict(row, num_threads=1)[0])


class RankerModel:
    """A trained ranker: the signals it reads, the booster, the answerability model."""

    def __init__(self, data: dict, path: str):
        import lightgbm

        if data.get("format") != FORMAT:
            raise InvalidInput(f"{path}: not a ranker file of format {FORMAT}")
        self.path = path
        self.meta = {k: v for k, v in data.items()
                     if k not in ("lightgbm", "calibration", "answerability")}
        self.signals: tuple[str, ...] = tuple(data["signals"])
        self.booster = lightgbm.Booster(model_str=data["lightgbm"])
        # One booster serves every request thread of a worker; a prediction of a few
        # dozen candidates takes a fraction of a millisecond, so they take turns.
        self._lock = threading.Lock()
        self.calibration = Calibration(data["calibration"]["features"],
                                       data["calibration"]["lightgbm"])
        # P(the corpus answers), which decides `answerable`; a file made before it was
        # fitted apart has one model for both.
        answerability = data.get("answerability")
        self.answerability = Calibration(answerability["features"], answerability["lightgbm"]) \
            if answerability else self.calibration
        self.scale_coef = np.asarray(data["passage_scale"]["coef"], dtype=np.float64)
        self.scale_intercept = float(data["passage_scale"]["intercept"])

    def scores(self, signals: dict[str, dict[int, float]], rows: list[int]) -> np.ndarray:
        """Score candidates: higher is likelier the answer, on one scale for every question."""
        if not rows:
            return np.zeros(0)
        features = feature_matrix(signals, rows, self.signals)
        with self._lock:
            return self.booster.predict(features, num_threads=1)


    def probabilities(self, fused: dict[int, float], confidence: float) -> dict[int, float]:
        """Turn the ranker's scores of one question's candidates into P(the passage
        answers): the same order, on a scale that means the same for every question."""
        if not fused:
            return {}
        rows = list(fused)
        z = scale_rows(np.fromiter(fused.values(), dtype=np.float64, count=len(rows)),
                       confidence) @ self.scale_coef + self.scale_intercept
        return dict(zip(rows, (1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))).tolist()))


@cache
def load_ranker(path: str = "") -> RankerModel:
    """Load a ranker file (empty: the one shipped with the package), once per process."""
    try:
        if path:
            text = Path(path).expanduser().read_text("utf-8")
        else:
            text = resources.files("qa_service.search").joinpath("models", SHIPPED).read_text(
                "utf-8")
        data = json.loads(text)
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"cannot read ranker {path or SHIPPED}: {exc}") from None
    try:
        return RankerModel(data, path or SHIPPED)
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(f"{path or SHIPPED}: not a ranker file ({exc})") from None
