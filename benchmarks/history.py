"""Measure what a conversation's history does to questions, searched with it and alone.

A self-contained question asked after others must get the answer it gets alone; a
follow-up ("How many died there?") must still get its answer from the history. Each
question is ranked three ways: alone, after history as the service does now (history
only when the question leans on it), and after history counted for every question
(`self_contained_history=1`, the behaviour before).

- dev file (../shared/eval/dev.jsonl): every answerable question asked after the two
  questions before it in the file, and each follow-up with its own history;
- a BEIR collection (optional): a sample of its questions, each asked after two other
  questions of the same collection (news questions are self-contained).

Usage:
    python benchmarks/history.py --index-dir index --dev ../shared/eval/dev.jsonl \
        [--beir ../shared/eval/realtimeqa-train --beir-index index/eval/realtimeqa-train]

Skips (exit 0) when the data files are absent, as in a fresh clone.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
from pathlib import Path


def _searchers(index_dir: Path):
    from qa_service.config import Settings
    from qa_service.service import Service

    base = Settings.from_env().with_(index_dir=index_dir)
    now = Service.load(base)
    before = Service.load(base.with_(self_contained_history=1.0), encoder=now.encoder)
    return now.searcher, before.searcher


def _rank(found: list[bool]) -> int | None:
    return next((i for i, hit in enumerate(found, 1) if hit), None)


def _report(name: str, ranks: dict[str, list[int | None]], changed: dict[str, float]) -> None:
    print(f"\n{name}: {len(ranks['alone'])} questions")
    print(f"{'searched':<28} {'hit@1':>6} {'hit@3':>6} {'MRR@10':>7} {'top changed':>12}")
    for way, found in ranks.items():
        hit1 = statistics.mean(r == 1 for r in found)
        hit3 = statistics.mean(r is not None and r <= 3 for r in found)
        mrr = statistics.mean(1 / r if r and r <= 10 else 0.0 for r in found)
        moved = f"{changed[way]:.3f}" if way in changed else "-"
        print(f"{way:<28} {hit1:>6.3f} {hit3:>6.3f} {mrr:>7.3f} {moved:>12}")


def _compare(searchers, asked, judge) -> tuple[dict, dict]:
    """Rank every (question, history) alone and both ways; `judge(i, passages)` says which
    passages answer question i."""
    now, before = searchers
    ranks = {"alone": [], "with history (now)": [], "with history (before)": []}
    changed = {"with history (now)": 0, "with history (before)": 0}
    for i, (question, history) in enumerate(asked):
        alone = now.ask(question, top_k=10)
        ranks["alone"].append(_rank(judge(i, alone.passages)))
        for way, searcher in (("with history (now)", now), ("with history (before)", before)):
            answer = searcher.ask(question, history, top_k=10)
            ranks[way].append(_rank(judge(i, answer.passages)))
            changed[way] += answer.passages[0].id != alone.passages[0].id
    return ranks, {way: n / max(len(asked), 1) for way, n in changed.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", type=Path, default=Path("index"))
    parser.add_argument("--dev", type=Path, required=True)
    parser.add_argument("--beir", type=Path)
    parser.add_argument("--beir-index", type=Path)
    parser.add_argument("--sample", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not args.dev.is_file():
        print(f"skipped: {args.dev} is absent", file=sys.stderr)
        return 0
    from qa_service.evaluate.questions import evidence_form, load_questions

    questions = load_questions(args.dev)
    searchers = _searchers(args.index_dir)

    def answers(evidence):
        forms = [evidence_form(e) for e in evidence]
        return lambda passages: [any(f in evidence_form(p.text) for f in forms)
                                 for p in passages]

    plain = [q for q in questions if q.kind == "answerable"]
    asked = [(q.question, [plain[i - 2].question, plain[i - 1].question])
             for i, q in enumerate(plain)]
    judges = [answers(q.evidence) for q in plain]
    _report("dev answerable, after the two questions before them",
            *_compare(searchers, asked, lambda i, p: judges[i](p)))
    follow = [q for q in questions if q.kind == "followup"]
    judges = [answers(q.evidence) for q in follow]
    _report("dev follow-ups, with their own history",
            *_compare(searchers, [(q.question, q.history) for q in follow],
                      lambda i, p: judges[i](p)))
    if args.beir and (args.beir / "queries.jsonl").is_file():
        from qa_service.evaluate import load_collection, sample_ids

        collection = load_collection(args.beir)
        ids = sample_ids(collection, args.sample, args.seed)
        rng = random.Random(args.seed)
        pool = sorted(collection.queries)
        asked = [(collection.queries[q], [collection.queries[o] for o in rng.sample(pool, 2)])
                 for q in ids]
        beir = _searchers(args.beir_index or Path("index/eval") / args.beir.name)
        _report(f"{args.beir.name}, after two other questions of it",
                *_compare(beir, asked, lambda i, p: [
                    collection.qrels.get(ids[i], {}).get(x.doc_id, 0) > 0 for x in p]))
    elif args.beir:
        print(f"skipped {args.beir}: not a BEIR folder here", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
