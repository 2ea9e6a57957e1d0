"""Fit the ranker (LightGBM LambdaMART) and the answerability calibration (monotone GBM).

Questions are split into folds by a hash of their collection and id: each fold is scored
by models fitted on the others (the held-out figures of the report), then the shipped
models are fitted on every fold.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass

import numpy as np

from qa_service.learn.collect import Example
from qa_service.search.confidence import RANKER, calibration_values
from qa_service.search.features import feature_columns, feature_names
from qa_service.search.learned import scale_rows

log = logging.getLogger(__name__)

# LambdaMART settings: small trees and many of them, each seeing part of the data; chosen
# on the training folds (docs/evaluation.md), not on any evaluation question.
PARAMS = {
    "objective": "lambdarank", "metric": "ndcg", "eval_at": [10],
    "learning_rate": 0.05, "num_leaves": 15, "min_data_in_leaf": 50,
    "feature_fraction": 0.8, "bagging_fraction": 0.8, "bagging_freq": 1,
    "lambdarank_truncation_level": 20, "verbosity": -1, "deterministic": True,
    "force_row_wise": True,
}
ROUNDS = 300
# What the confidence model reads: how near in meaning the nearest passage and the
# nearest sentence are, the share of the question's term weight the best passage holds,
# the idf weight of the words it lacks in absolute terms (a short question missing one
# word said otherwise, "how many died?" against "were killed", is not read like a long
# one missing most of its words); and of the first passage, the ranker's score and its
# lead over the next (a near miss ranks several passages on the topic alike), whether
# its answering sentence holds the kind of answer asked, and the question's words and
# names it holds or lacks; and whether any candidate's report names what the question
# names (a name the corpus never mentions: none does).
CALIBRATION_FEATURES = (
    "best.dense", "best.sentence", "best.coverage", "best.missing_terms",
    f"top.{RANKER}", f"gap.{RANKER}", "top.sentence_terms", "top.answer_type", "top.names",
    "top.missing_terms", "top.coverage", "top.event", "best.event",
)
# Two small classifiers over them, in which each can only raise the probability
# (monotone), so no quirk of the training questions turns evidence into doubt: the
# confidence, P(the first passage is right), not balanced, as it is checked bin by bin on
# held-out folds; and the answerability, P(the corpus answers: a question of its own
# collection, not a near miss nor another's), classes balanced so that 0.5, the answer
# threshold, is where the two are equally likely. A question whose answer the ranker
# puts third is answerable with a low confidence.
CALIBRATION_PARAMS = {
    "objective": "binary", "num_leaves": 7, "learning_rate": 0.05, "min_data_in_leaf": 40,
    "verbosity": -1, "deterministic": True, "force_row_wise": True,
}
CALIBRATION_ROUNDS = 100


def fold_of(example: Example, folds: int, seed: int) -> int:
    """The fold of a question: a stable hash of where it comes from and its id."""
    digest = hashlib.sha256(f"{seed}:{example.origin}:{example.qid}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % folds


def features(example: Example, signals: tuple[str, ...]) -> np.ndarray:
    return feature_columns(example.signals, signals, len(example.doc_ids))


@dataclass
class Ranker:
    """A fitted booster and the signals it reads."""

    booster: object
    signals: tuple[str, ...]

    def scores(self, example: Example) -> np.ndarray:
        return self.booster.predict(features(example, self.signals))


def fit_ranker(examples: list[Example], signals: tuple[str, ...], seed: int,
               rounds: int = ROUNDS) -> Ranker:
    """Fit LambdaMART on the questions asked of their own collection that have a judged
    candidate (the others teach a ranking nothing)."""
    import lightgbm

    useful = [e for e in examples if e.own and e.labels.any()]
    x = np.vstack([features(e, signals) for e in useful])
    y = np.concatenate([e.labels.astype(np.int32) for e in useful])
    data = lightgbm.Dataset(x, y, group=[len(e.labels) for e in useful],
                            feature_name=[n.replace(".", "__") for n in
                                          feature_names(signals)], free_raw_data=True)
    params = {**PARAMS, "seed": seed, "num_threads": os.cpu_count() or 1}
    booster = lightgbm.train(params, data, num_boost_round=rounds)
    return Ranker(booster, signals)


def calibration_row(example: Example, scores: np.ndarray) -> list[float]:
    """The calibration features of a question, its best passage taken by `scores` (the
    ranker's), read as a served answer reads them."""
    signals = {name: dict(enumerate(column.tolist())) for name, column in
               example.signals.items()}
    signals[RANKER] = dict(enumerate(np.asarray(scores, dtype=np.float64).tolist()))
    top = int(np.argmax(scores)) if len(scores) else None
    return calibration_values(CALIBRATION_FEATURES, signals, top)


def first_right(example: Example, scores: np.ndarray) -> bool:
    """Whether the passage ranked first by `scores` is judged to answer the question."""
    return bool(example.own and len(scores) and example.labels[int(np.argmax(scores))] > 0)


def fit_calibration(rows: np.ndarray, answered: np.ndarray, seed: int,
                    balanced: bool = False) -> dict:
    """Fit P(label) over the calibration features (the first passage answers; or, with
    `balanced` classes so that 0.5 is the even point, the corpus answers); return it in
    the ranker file's form."""
    import lightgbm

    params = {**CALIBRATION_PARAMS, "seed": seed, "num_threads": os.cpu_count() or 1,
              "monotone_constraints": [1] * rows.shape[1], "is_unbalance": balanced}
    booster = lightgbm.train(params, lightgbm.Dataset(rows, answered), CALIBRATION_ROUNDS)
    return {"features": list(CALIBRATION_FEATURES), "lightgbm": booster.model_to_string()}


def probabilities(calibration: dict, rows: np.ndarray) -> np.ndarray:
    import lightgbm

    return lightgbm.Booster(model_str=calibration["lightgbm"]).predict(rows)


# How many of each question's best candidates the passage scale is fitted on: the ones
# an answer shows.
SCALE_DEPTH = 10


def fit_passage_scale(examples: list[Example], held_out: dict[int, np.ndarray],
                      sure: np.ndarray) -> tuple[dict, dict]:
    """Fit P(a passage answers) from held-out ranker scores and confidences (Platt
    scaling, a logistic over `scale_rows`): a score that means the same for every
    question. Questions of other collections count, their every passage a miss."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import brier_score_loss, roc_auc_score

    rows, labels = [], []
    for i, example in enumerate(examples):
        scores = held_out[i]
        top = np.argsort(-scores, kind="stable")[:SCALE_DEPTH]
        rows.append(scale_rows(scores, float(sure[i]))[top])
        labels.append(example.labels[top] > 0)
    x, y = np.vstack(rows), np.concatenate(labels)
    model = LogisticRegression(C=1.0, max_iter=1000).fit(x, y)
    p = model.predict_proba(x)[:, 1]
    coef = model.coef_[0].tolist()
    if coef[0] + coef[1] <= 0:  # within a question the scale must keep the ranker's order
        raise ValueError("the fitted passage scale does not grow with the ranker's score")
    return ({"coef": coef, "intercept": float(model.intercept_[0])},
            {"auc": round(float(roc_auc_score(y, p)), 4),
             "brier": round(float(brier_score_loss(y, p)), 4), "passages": int(len(y))})
