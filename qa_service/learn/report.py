"""Score rankings of the gathered candidates, per collection, with ir-measures."""

from __future__ import annotations

import ir_measures
import numpy as np
from ir_measures import RR, Success, nDCG

from qa_service.learn.collect import Example
from qa_service.learn.reliability import question_kind
from qa_service.search.fusion import WeightedFusion
from qa_service.search.signals import SIGNALS, hand_weights

MEASURES = {"mrr@10": RR @ 10, "ndcg@10": nDCG @ 10, "hit@1": Success @ 1}


def ranking_scores(example: Example, learned: np.ndarray | None) -> dict[str, np.ndarray]:
    """Each compared ranking's score per candidate: the signals alone, weighted, learned."""
    n = len(example.doc_ids)
    found = {s.name: example.signals[s.name] for s in SIGNALS if s.alone}
    values = {name: dict(enumerate(column.tolist())) for name, column in
              example.signals.items()}
    weighted = WeightedFusion(hand_weights()).fuse(values, list(range(n)))
    found["weighted"] = np.array([weighted[i] for i in range(n)])
    if learned is not None:
        found["learned"] = learned
    return found


def score(examples: list[Example], learned: dict[int, np.ndarray]) -> dict[str, dict]:
    """Return per collection, per ranking, MRR@10, nDCG@10 and hit@1 of its own questions
    (`learned` maps an example's position in `examples` to its learned scores)."""
    runs: dict[str, dict[str, dict]] = {}
    qrels: dict[str, dict] = {}
    for i, example in enumerate(examples):
        if not example.own:
            continue
        qrels.setdefault(example.collection, {})[example.qid] = example.judged
        for name, values in ranking_scores(example, learned.get(i)).items():
            docs: dict[str, float] = {}
            for position in np.argsort(-values, kind="stable"):
                docs.setdefault(example.doc_ids[position], float(-len(docs)))
            runs.setdefault(example.collection, {}).setdefault(name, {})[example.qid] = docs
    report = {}
    for collection, by_ranking in runs.items():
        report[collection] = {"queries": len(qrels[collection])}
        for name, run in by_ranking.items():
            found = ir_measures.calc_aggregate(list(MEASURES.values()), qrels[collection], run)
            report[collection][name] = {k: round(float(found[m]), 4)
                                        for k, m in MEASURES.items()}
    return report


def by_kind(examples: list[Example], learned: dict[int, np.ndarray]) -> dict[str, dict]:
    """Return per collection, per kind of question (who, when, where, how many, what, why,
    other), how many questions and each ranking's hit@1 and MRR@10 over them."""
    found: dict[str, dict[str, dict[str, list[float]]]] = {}
    for i, example in enumerate(examples):
        if not example.own:
            continue
        kind = question_kind(example.question)
        for name, values in ranking_scores(example, learned.get(i)).items():
            docs: list[str] = []
            for position in np.argsort(-values, kind="stable"):
                if example.doc_ids[position] not in docs:
                    docs.append(example.doc_ids[position])
            first = next((n for n, d in enumerate(docs[:10], 1)
                          if example.judged.get(d, 0) > 0), None)
            slot = found.setdefault(example.collection, {}).setdefault(kind, {})
            slot.setdefault(name, []).append(1.0 / first if first else 0.0)
    return {collection: {kind: {"questions": len(next(iter(by.values()))),
                                **{name: {"hit@1": round(float(np.mean([r == 1.0 for r in rr])), 4),
                                          "mrr@10": round(float(np.mean(rr)), 4)}
                                   for name, rr in by.items()}}
                         for kind, by in sorted(kinds.items())}
            for collection, kinds in found.items()}
