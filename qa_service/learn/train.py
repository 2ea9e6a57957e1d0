"""Train the shipped ranker file: cross-validate, fit on everything, record how."""

from __future__ import annotations

import datetime
import logging
import platform

import numpy as np
from sklearn.metrics import brier_score_loss, roc_auc_score

from qa_service.learn.collect import Example, ExampleSet
from qa_service.learn.fit import (
    CALIBRATION_FEATURES,
    CALIBRATION_PARAMS,
    CALIBRATION_ROUNDS,
    PARAMS,
    ROUNDS,
    calibration_row,
    fit_calibration,
    fit_passage_scale,
    fit_ranker,
    fold_of,
    probabilities,
)
from qa_service.learn.report import score
from qa_service.progress import tracked
from qa_service.search.features import feature_names
from qa_service.search.learned import FORMAT
from qa_service.search.signals import SIGNALS

log = logging.getLogger(__name__)


def cross_validate(examples: list[Example], signals: tuple[str, ...], folds: int, seed: int
                   ) -> dict[int, np.ndarray]:
    """Score every example with the ranker fitted on the other folds."""
    held_out: dict[int, np.ndarray] = {}
    fold = [fold_of(e, folds, seed) for e in examples]
    for k in tracked(range(folds), folds, "Fitting the ranker", "folds"):
        ranker = fit_ranker([e for e, f in zip(examples, fold) if f != k], signals, seed)
        for i, example in enumerate(examples):
            if fold[i] == k:
                held_out[i] = ranker.scores(example)
    return held_out


def calibration_report(examples: list[Example], rows: np.ndarray, answered: np.ndarray,
                       folds: int, seed: int, threshold: float) -> tuple[dict, np.ndarray]:
    """Held-out quality of the answerability model: AUC, Brier score, and per collection
    the share of its own questions answered and of others' declined; and each question's
    held-out probability."""
    fold = np.array([fold_of(e, folds, seed) for e in examples])
    held = np.zeros(len(examples))
    for k in range(folds):
        model = fit_calibration(rows[fold != k], answered[fold != k], seed)
        held[fold == k] = probabilities(model, rows[fold == k])
    report = {"auc": round(float(roc_auc_score(answered, held)), 4),
              "brier": round(float(brier_score_loss(answered, held)), 4),
              "threshold": threshold, "collections": {}}
    for collection in sorted({e.collection for e in examples}):
        own = [i for i, e in enumerate(examples) if e.collection == collection and e.own]
        other = [i for i, e in enumerate(examples) if e.collection == collection and not e.own]
        report["collections"][collection] = {
            "own_answered": round(float(np.mean(held[own] >= threshold)), 4) if own else None,
            "others_declined": round(float(np.mean(held[other] < threshold)), 4)
            if other else None,
        }
    return report, held


def train_model(data: ExampleSet, folds: int, seed: int, threshold: float, command: str,
                signals: tuple[str, ...] | None = None) -> tuple[dict, dict]:
    """Return the ranker file's content and the held-out report."""
    signals = signals or tuple(s.name for s in SIGNALS)
    examples = data.examples
    held_out = cross_validate(examples, signals, folds, seed)
    report = {"ranking": score(examples, held_out)}
    rows = np.array([calibration_row(e, held_out[i]) for i, e in enumerate(examples)])
    answered = np.array([e.own for e in examples], dtype=np.int32)
    report["calibration"], sure = calibration_report(examples, rows, answered, folds, seed,
                                                     threshold)
    passage_scale, report["passage_scores"] = fit_passage_scale(examples, held_out, sure)
    log.info("fitting the ranker on every fold")
    final = fit_ranker(examples, signals, seed)
    per_signal = dict.fromkeys(signals, 0.0)
    for name, gain in zip(feature_names(signals), final.booster.feature_importance("gain")):
        per_signal[name.partition(".")[0]] += float(gain)
    total = sum(per_signal.values()) or 1.0
    report["gain_share"] = {s: round(v / total, 4) for s, v in per_signal.items()}
    # The calibration reads the best passage by the final ranker on its own training
    # questions: what a served answer shows.
    rows = np.array([calibration_row(e, final.scores(e)) for e in examples])
    calibration = fit_calibration(rows, answered, seed)
    model = {
        "format": FORMAT,
        "created": datetime.date.today().isoformat(),
        "command": command,
        "seed": seed,
        "folds": folds,
        "data": data.sources,
        "machine": f"{platform.machine()}, Python {platform.python_version()}",
        "params": {**PARAMS, "rounds": ROUNDS},
        "calibration_params": {**CALIBRATION_PARAMS, "rounds": CALIBRATION_ROUNDS},
        "signals": list(signals),
        "candidates": _candidates(data.sources),
        "calibration_features": list(CALIBRATION_FEATURES),
        "held_out": report,
        "calibration": calibration,
        "passage_scale": passage_scale,
        "lightgbm": final.booster.model_to_string(),
    }
    return model, report


def _candidates(sources: list[dict]) -> int | None:
    """The candidates per retriever the examples were gathered with (None: unrecorded)."""
    found = {source.get("candidates") for source in sources}
    return found.pop() if len(found) == 1 else None
