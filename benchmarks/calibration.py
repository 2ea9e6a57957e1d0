"""Check a ranker file's confidence on gathered questions: reliability, declines, near misses.

Reads the candidates `qa-service train-ranker --examples FILE` gathered (questions asked of
their own collection, near misses with their answers taken out, other collections'
questions) and applies a ranker file as a server would: its ranker picks each question's
first passage, its calibration gives the confidence. Prints per collection the share of
own questions, near misses and others declined at the threshold, and the reliability
table (per confidence bin, the share whose first passage is right) with its expected
calibration error.

Questions a file was trained on are in-sample for it (its own held-out report is the fair
figure); a collection it never saw is not. This is how a file made before near misses
were gathered is measured on them.

Usage:
    python benchmarks/calibration.py EXAMPLES [--ranker FILE] [--threshold 0.5]

Skips (exit 0) when EXAMPLES is absent.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("examples", type=Path)
    parser.add_argument("--ranker", default="", help="a ranker file (empty: the shipped one)")
    parser.add_argument("--threshold", type=float, default=0.5)
    args = parser.parse_args()
    if not args.examples.is_file():
        print(f"skipped: {args.examples} is absent", file=sys.stderr)
        return 0
    from qa_service.learn import ExampleSet
    from qa_service.learn.fit import first_right
    from qa_service.learn.reliability import reliability
    from qa_service.search.confidence import RANKER, calibration_values
    from qa_service.search.features import feature_columns
    from qa_service.search.learned import load_ranker

    model = load_ranker(args.ranker)
    examples = ExampleSet.load(args.examples).examples
    sure, right = np.zeros(len(examples)), np.zeros(len(examples), dtype=bool)
    for i, example in enumerate(examples):
        scores = model.booster.predict(feature_columns(example.signals, model.signals,
                                                       len(example.doc_ids)))
        signals = {name: dict(enumerate(column.tolist()))
                   for name, column in example.signals.items()}
        signals[RANKER] = dict(enumerate(scores.tolist()))
        top = int(np.argmax(scores))
        sure[i] = model.calibration.probability(
            calibration_values(model.calibration.features, signals, top))
        right[i] = first_right(example, scores)
    print(f"{model.path}: {len(examples)} questions, threshold {args.threshold}")
    print(f"{'collection':20s} {'own declined':>13s} {'near misses declined':>21s} "
          f"{'others declined':>16s} {'own right first':>16s}")
    for collection in sorted({e.collection for e in examples}):
        groups = [[i for i, e in enumerate(examples) if e.collection == collection and test(e)]
                  for test in (lambda e: e.own, lambda e: e.removed,
                               lambda e: e.origin != e.collection)]
        cells = [f"{np.mean(sure[g] < args.threshold):.3f}" if g else "-" for g in groups]
        print(f"{collection:20s} {cells[0]:>13s} {cells[1]:>21s} {cells[2]:>16s} "
              f"{np.mean(right[groups[0]]):>16.3f}")
    table = reliability(sure, right)
    print(f"\nreliability (all {table['answers']} questions): ECE {table['ece']:.4f}; at >= 0.9: "
          f"{table['at_0.9']['answers']} answers, {table['at_0.9']['right']} right first")
    for row in table["bins"]:
        print(f"  {row['bin']}  {row['answers']:6d} answers  mean confidence "
              f"{row['confidence']:.3f}  right first {row['right']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
