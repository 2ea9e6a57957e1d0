"""Check the answerability that decides `answerable` on a corpus, and where thresholds fall.

The answerability is the probability that the corpus answers, which `qa-service
train-ranker` fitted on the training collections (docs/evaluation.md; the `confidence`
an answer shows is another model's, P(the first passage answers)); the threshold is not
chosen here, on a development set, but this shows how it separates three groups on an
index:

- answerable: `answerable`, `followup` and `conflict` questions of a dev file
  (../shared/eval/dev.jsonl), which the corpus answers;
- unanswerable: the dev file's `unanswerable` questions;
- off-topic: a sample of questions of another collection (e.g. SQuAD's
  queries.jsonl), asked of this corpus, which cannot answer them.

Usage:
    python benchmarks/calibrate_threshold.py --index-dir index \
        --dev ../shared/eval/dev.jsonl \
        --off-topic ../shared/eval/squad-train-sample/queries.jsonl

Skips (exit 0) when the data files are absent, as in a fresh clone.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", type=Path, default=Path("index"))
    parser.add_argument("--dev", type=Path, required=True)
    parser.add_argument("--off-topic", type=Path, required=True)
    parser.add_argument("--sample", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    for path in (args.dev, args.off_topic):
        if not path.is_file():
            print(f"skipped: {path} not found")
            return 0

    from qa_service.config import Settings
    from qa_service.encoders import get_encoder
    from qa_service.search import Searcher
    from qa_service.store import Index

    index = Index.load(args.index_dir)
    settings = Settings.from_env(index_dir=args.index_dir)
    searcher = Searcher(index, get_encoder(index.model), settings)

    def confidence(question: str, history=()) -> float:
        """P(the corpus answers), against the answer threshold."""
        return searcher.rank(question[:1000], list(history)).answers

    groups: dict[str, list[float]] = {"answerable": [], "unanswerable": []}
    for line in args.dev.read_text("utf-8").splitlines():
        q = json.loads(line)
        group = "unanswerable" if q["kind"] == "unanswerable" else "answerable"
        groups[group].append(confidence(q["question"], q.get("history", [])))
    off_topic = [json.loads(line)["text"] for line in
                 args.off_topic.read_text("utf-8").splitlines() if line.strip()]
    random.Random(args.seed).shuffle(off_topic)
    groups["off-topic"] = [confidence(q) for q in off_topic[: args.sample]]

    print(f"index {index.path} ({index.manifest.counts['passages']} passages), "
          f"model {index.model}")
    for name, values in groups.items():
        values.sort()
        q = statistics.quantiles(values, n=20) if len(values) > 1 else values * 19
        print(f"{name:13s} n={len(values):4d} min {values[0]:.3f} p5 {q[0]:.3f} "
              f"median {statistics.median(values):.3f} p95 {q[-1]:.3f} max {values[-1]:.3f}")
    print("threshold  answerable declined  unanswerable accepted  off-topic accepted")
    for t in [x / 10 for x in range(1, 10)]:
        declined = sum(v < t for v in groups["answerable"])
        accepted = sum(v >= t for v in groups["unanswerable"])
        off = sum(v >= t for v in groups["off-topic"])
        mark = "  <- current" if abs(t - settings.ranking.answer_threshold) < 1e-9 else ""
        print(f"  {t:.2f}     {declined:3d}/{len(groups['answerable'])}"
              f"                {accepted:3d}/{len(groups['unanswerable'])}"
              f"                  {off:3d}/{len(groups['off-topic'])}{mark}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
