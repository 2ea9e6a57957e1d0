"""What each signal adds: held-out quality without it, and what it costs a question.

Usage:
    python benchmarks/signals.py quality EXAMPLES [--folds 3]
    python benchmarks/signals.py kinds EXAMPLES --without event [--folds 5]
    python benchmarks/signals.py cost --index-dir DIR --queries DIR/queries.jsonl [-n 200]

`quality` reads the candidates `qa-service train-ranker --examples FILE` gathered and, in
one run, cross-validates the ranker with every signal, without each one in turn, and
without the document-context signals (title, context): held-out MRR@10 per collection.

`kinds` gives held-out hit@1 and MRR@10 by kind of question (who, when, where, how many,
what, why, other) per collection, for the learned ranker without the named signals
(before) and with every signal (after), and the best single retriever beside them.

`cost` times each signal alone over fresh candidates of each question (so a signal is
charged for the evidence it needs, e.g. sentence cosines), beside retrieval itself.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in
                  Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    return f"{model}, {os.cpu_count()} cores"


def _examples(args) -> tuple[list, tuple[str, ...]] | None:
    """The gathered examples and every signal's name (None: no file, skipped)."""
    from qa_service.learn import ExampleSet
    from qa_service.search.signals import SIGNALS

    if not args.examples.is_file():
        print(f"no file {args.examples}: skipped", file=sys.stderr)
        return None
    return ExampleSet.load(args.examples).examples, tuple(s.name for s in SIGNALS)


def quality(args) -> int:
    from qa_service.learn.report import score
    from qa_service.learn.train import cross_validate

    if (found := _examples(args)) is None:
        return 0
    examples, every = found
    variants = {"all signals": every,
                "no document context": tuple(n for n in every if n not in ("title", "context"))}
    variants |= {f"without {n}": tuple(m for m in every if m != n) for n in every}
    rows = {}
    for label, signals in variants.items():
        started = time.perf_counter()
        held = cross_validate(examples, signals, args.folds, args.seed)
        found = score(examples, held)
        rows[label] = {c: r["learned"]["mrr@10"] for c, r in found.items()}
        print(f"{label:24s} " + "  ".join(f"{c} {v:.4f}" for c, v in rows[label].items())
              + f"  ({time.perf_counter() - started:.0f} s)", flush=True)
    if args.json:
        print(json.dumps({"machine": machine(), "folds": args.folds, "mrr@10": rows}, indent=2))
    return 0


def kinds(args) -> int:
    from qa_service.learn.report import by_kind
    from qa_service.learn.train import cross_validate

    if (loaded := _examples(args)) is None:
        return 0
    examples, every = loaded
    before = tuple(n for n in every if n not in args.without)
    found = {label: by_kind(examples, cross_validate(examples, signals, args.folds, args.seed))
             for label, signals in (("before", before), ("after", every))}
    print(f"held out, {args.folds} folds; before: without {', '.join(args.without)}")
    print(f"{'collection':20s} {'kind':9s} {'n':>5s} {'dense':>13s} {'lexical':>13s} "
          f"{'before':>13s} {'after':>13s}   (hit@1 / MRR@10)")
    for collection, by in found["after"].items():
        for kind, row in by.items():
            old = found["before"][collection][kind]["learned"]
            cells = [row["dense"], row["lexical"], old, row["learned"]]
            print(f"{collection:20s} {kind:9s} {row['questions']:5d} " + " ".join(
                f"{c['hit@1']:.3f} / {c['mrr@10']:.3f}" for c in cells))
    if args.json:
        print(json.dumps({"machine": machine(), "folds": args.folds, "by_kind": found},
                         indent=2))
    return 0


def cost(args) -> int:
    from qa_service.config import Settings
    from qa_service.search.signals import SIGNALS
    from qa_service.service import Service

    if not args.queries.is_file():
        print(f"no file {args.queries}: skipped", file=sys.stderr)
        return 0
    with open(args.queries, encoding="utf-8") as fh:
        questions = [json.loads(line)["text"][:1000] for line in fh if line.strip()][: args.n]
    settings = Settings.from_env(index_dir=args.index_dir, fusion="weighted")
    searcher = Service.load(settings).searcher
    times: dict[str, list[float]] = {"retrieval": [], **{s.name: [] for s in SIGNALS}}
    for question in questions:
        started = time.perf_counter()
        found = searcher.candidates(question)
        times["retrieval"].append(time.perf_counter() - started)
        for signal in SIGNALS:
            fresh = searcher.candidates(question)
            started = time.perf_counter()
            signal.compute(fresh)
            times[signal.name].append(time.perf_counter() - started)
    print(f"{args.index_dir}: {len(questions)} questions, {len(found.rows)} candidates "
          f"each (last), {machine()}")
    for name, values in times.items():
        print(f"{name:16s} median {statistics.median(values) * 1000:7.2f} ms")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    q = sub.add_parser("quality")
    q.add_argument("examples", type=Path)
    q.add_argument("--folds", type=int, default=3)
    q.add_argument("--seed", type=int, default=0)
    q.add_argument("--json", action="store_true")
    k = sub.add_parser("kinds")
    k.add_argument("examples", type=Path)
    k.add_argument("--without", nargs="+", required=True)
    k.add_argument("--folds", type=int, default=5)
    k.add_argument("--seed", type=int, default=0)
    k.add_argument("--json", action="store_true")
    c = sub.add_parser("cost")
    c.add_argument("--index-dir", type=Path, required=True)
    c.add_argument("--queries", type=Path, required=True)
    c.add_argument("-n", type=int, default=200)
    args = parser.parse_args()
    return {"quality": quality, "kinds": kinds, "cost": cost}[args.what](args)


if __name__ == "__main__":
    sys.exit(main())
