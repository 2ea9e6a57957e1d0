"""Measure text/entities.py: typed-span throughput, answer-kind latency, a table to judge.

Usage:
    python benchmarks/entities.py ../shared/eval/scifact-train \
        [--questions ../shared/eval/realtimeqa-train ../shared/eval/squad-train-sample]

Prints: passages/s and words/s of typed_spans over the first --passages abstracts of the
collection's corpus.jsonl (one process), with the components it keeps (the recogniser
and the money rule) and with spaCy's whole pipeline; the median and 95th-percentile
latency of answer_kind over --latency questions of the first --questions folder; and
--show questions spread over each --questions folder with the kind found, to judge by hand.
Skips with a message when a folder is absent (a fresh clone has no ../shared).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path


def cpu_name() -> str:
    """Return the CPU's model name and the number of CPUs this process may use."""
    import os

    name = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{name}, {len(os.sched_getaffinity(0))} CPUs"


def read_jsonl(path: Path, limit: int) -> list[dict]:
    """Return the first `limit` records of a JSON-lines file."""
    rows = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if len(rows) >= limit:
                break
            if line.strip():
                rows.append(json.loads(line))
    return rows


def throughput(texts: list[str], run) -> tuple[float, float, float]:
    """Return (seconds, passages/s, words/s) of `run(texts)`."""
    words = sum(len(t.split()) for t in texts)
    started = time.perf_counter()
    run(texts)
    seconds = time.perf_counter() - started
    return seconds, len(texts) / seconds, words / seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("collection", type=Path, help="a BEIR folder (corpus.jsonl)")
    parser.add_argument("--questions", type=Path, nargs="*", default=None,
                        help="BEIR folders whose queries.jsonl to time and show "
                        "(default: realtimeqa-train and squad-train-sample beside it)")
    parser.add_argument("--passages", type=int, default=2000)
    parser.add_argument("--latency", type=int, default=200)
    parser.add_argument("--show", type=int, default=20)
    parser.add_argument("--skip-full", action="store_true",
                        help="do not time the whole pipeline (slow)")
    args = parser.parse_args(argv)
    corpus = args.collection / "corpus.jsonl"
    if not corpus.exists():
        print(f"skipped: {corpus} not found (it lives in ../shared/eval)")
        return 0
    folders = args.questions
    if folders is None:
        folders = [args.collection.parent / n for n in ("realtimeqa-train",
                                                        "squad-train-sample")]
    folders = [f for f in folders if (f / "queries.jsonl").exists()]

    from qa_service.text import entities

    print(f"CPU: {cpu_name()}")
    started = time.perf_counter()
    nlp = entities.pipeline()
    print(f"pipeline: {entities.MODEL} {nlp.meta['version']}, loaded in "
          f"{time.perf_counter() - started:.2f} s (import included): "
          f"{', '.join(nlp.pipe_names)}")

    texts = [r["text"] for r in read_jsonl(corpus, args.passages)]
    entities.typed_spans(texts[:50])  # warm up: first batches allocate
    seconds, pps, wps = throughput(texts, entities.typed_spans)
    spans = entities.typed_spans(texts[:200])
    print(f"typed_spans, kept components (ner, money_ruler), n_process=1, batch "
          f"{entities.BATCH_SIZE}: {len(texts):,} passages in {seconds:.1f} s = "
          f"{pps:,.1f} passages/s, {wps:,.0f} words/s; "
          f"{sum(map(len, spans)) / len(spans):.1f} spans a passage")
    if not args.skip_full:
        def full(batch: list[str]) -> None:
            for _ in nlp.pipe(batch, batch_size=entities.BATCH_SIZE):
                pass

        seconds, pps, wps = throughput(texts, full)
        print(f"whole pipeline ({', '.join(nlp.pipe_names)}), n_process=1: "
              f"{seconds:.1f} s = {pps:,.1f} passages/s, {wps:,.0f} words/s")

    if not folders:
        print("skipped questions: no queries.jsonl beside the collection")
        return 0
    questions = [r["text"] for r in read_jsonl(folders[0] / "queries.jsonl", args.latency)]
    entities.answer_kind(questions[0])
    times = []
    for question in questions:
        started = time.perf_counter()
        entities.answer_kind(question)
        times.append(time.perf_counter() - started)
    times.sort()
    print(f"answer_kind over {len(times)} questions of {folders[0].name}: median "
          f"{statistics.median(times) * 1000:.2f} ms, p95 "
          f"{times[int(0.95 * (len(times) - 1))] * 1000:.2f} ms")

    for folder in folders:
        print(f"\n{folder.name}: question -> kind")
        rows = read_jsonl(folder / "queries.jsonl", 10**9)
        # Spread over the file: a SQuAD sample runs one article's questions in a row.
        for row in rows[:: max(1, len(rows) // args.show)][: args.show]:
            kind = entities.answer_kind(row["text"])
            print(f"  {str(kind):<12} {row['text'][:110]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
