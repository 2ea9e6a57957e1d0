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
    first_right,
    fit_calibration,
    fit_passage_scale,
    fit_ranker,
    fold_of,
    probabilities,
)
from qa_service.learn.reliability import declines, reliability
from qa_service.learn.report import by_kind, score
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


# Answer thresholds the report shows the declines at, around the one in force (0.5).
SWEEP = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)


def held_out_probabilities(examples: list[Example], rows: np.ndarray, labels: np.ndarray,
                           folds: int, seed: int, balanced: bool) -> np.ndarray:
    """Each question's probability from the calibration fitted on the other folds."""
    fold = np.array([fold_of(e, folds, seed) for e in examples])
    held = np.zeros(len(examples))
    for k in range(folds):
        model = fit_calibration(rows[fold != k], labels[fold != k], seed, balanced)
        held[fold == k] = probabilities(model, rows[fold == k])
    return held


def _fit_scores(labels: np.ndarray, held: np.ndarray) -> dict:
    return {"auc": round(float(roc_auc_score(labels, held)), 4),
            "brier": round(float(brier_score_loss(labels, held)), 4)}


def confidence_report(examples: list[Example], right: np.ndarray, held: np.ndarray) -> dict:
    """Held-out quality of the confidence, P(the first passage is right): AUC, Brier
    score, the reliability table and its calibration error, over every question and per
    collection over its own."""
    report = {**_fit_scores(right, held), "reliability": reliability(held, right),
              "collections": {}}
    for collection in sorted({e.collection for e in examples}):
        own = np.asarray([i for i, e in enumerate(examples)
                          if e.collection == collection and e.own], dtype=int)
        report["collections"][collection] = reliability(held[own], right[own])
    return report


def answerability_report(examples: list[Example], answered: np.ndarray, held: np.ndarray,
                         threshold: float) -> dict:
    """Held-out quality of the answerability: AUC, Brier score, and per collection the
    share of its own questions, of near misses (their answer taken out) and of other
    collections' questions declined at the threshold and at a sweep of others."""
    report = {**_fit_scores(answered, held), "threshold": threshold, "collections": {}}
    for collection in sorted({e.collection for e in examples}):
        groups = {
            "own_declined": [i for i, e in enumerate(examples)
                             if e.collection == collection and e.own],
            "near_misses_declined": [i for i, e in enumerate(examples)
                                     if e.collection == collection and e.removed],
            "others_declined": [i for i, e in enumerate(examples)
                                if e.collection == collection and e.origin != collection],
        }
        groups = {name: np.asarray(idx, dtype=int) for name, idx in groups.items()}
        report["collections"][collection] = {**declines(held, groups, (threshold,))[0],
                                             "sweep": declines(held, groups, SWEEP)}
    return report


def train_model(data: ExampleSet, folds: int, seed: int, threshold: float, command: str,
                signals: tuple[str, ...] | None = None) -> tuple[dict, dict]:
    """Return the ranker file's content and the held-out report."""
    signals = signals or tuple(s.name for s in SIGNALS)
    examples = data.examples
    held_out = cross_validate(examples, signals, folds, seed)
    report = {"ranking": score(examples, held_out), "by_kind": by_kind(examples, held_out)}
    # The confidence model learns from held-out ranker scores: a served question is one
    # the ranker never saw, and in-sample first passages would be right too often.
    rows = np.array([calibration_row(e, held_out[i]) for i, e in enumerate(examples)])
    right = np.array([first_right(e, held_out[i]) for i, e in enumerate(examples)],
                     dtype=np.int32)
    answered = np.array([e.own for e in examples], dtype=np.int32)
    sure = held_out_probabilities(examples, rows, right, folds, seed, balanced=False)
    report["calibration"] = confidence_report(examples, right, sure)
    answers = held_out_probabilities(examples, rows, answered, folds, seed, balanced=True)
    report["answerability"] = answerability_report(examples, answered, answers, threshold)
    passage_scale, report["passage_scores"] = fit_passage_scale(examples, held_out, sure)
    log.info("fitting the ranker on every fold")
    final = fit_ranker(examples, signals, seed)
    per_signal = dict.fromkeys(signals, 0.0)
    for name, gain in zip(feature_names(signals), final.booster.feature_importance("gain")):
        per_signal[name.partition(".")[0]] += float(gain)
    total = sum(per_signal.values()) or 1.0
    report["gain_share"] = {s: round(v / total, 4) for s, v in per_signal.items()}
    calibration = fit_calibration(rows, right, seed)
    answerability = fit_calibration(rows, answered, seed, balanced=True)
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
        "candidates": _recorded(data.sources, "candidates"),
        "answer_types": _recorded(data.sources, "answer_types"),
        "calibration_features": list(CALIBRATION_FEATURES),
        "held_out": report,
        "calibration": calibration,
        "answerability": answerability,
        "passage_scale": passage_scale,
        "lightgbm": final.booster.model_to_string(),
    }
    return model, report


def _recorded(sources: list[dict], setting: str):
    """The value of a ranking setting the examples were gathered with, when every
    collection's agrees (None: unrecorded): candidates per retriever, answer types."""
    found = {source.get(setting) for source in sources}
    return found.pop() if len(found) == 1 else None
