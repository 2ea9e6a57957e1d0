"""Measure what the answer_type signal's question half costs a question: answer_kind.

Usage:
    python benchmarks/answer_types.py [--index index] [--questions ../shared/eval/dev.jsonl]

In one process, over the questions of a dev.jsonl file, several passes each:
- `answer_kind` alone (text/entities.py, uncached) per question;
- `Searcher.ask` per question with the kind's cache cleared before each question (a
  question never asked before), and with the kind already known (cached: what the
  question costs without the parse);
and prints the medians over the passes of each pass's median, in milliseconds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from entities import cpu_name  # noqa: E402


def per_question(questions: list[str], run, before=None) -> float:
    """Return the median milliseconds of `run(question)` over the questions."""
    times = []
    for question in questions:
        if before is not None:
            before()
        started = time.perf_counter()
        run(question)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=Path("index"))
    parser.add_argument("--questions", type=Path, default=Path("../shared/eval/dev.jsonl"))
    parser.add_argument("--passes", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if not args.questions.exists():
        print(f"no {args.questions}: nothing to measure")
        return

    from qa_service.config import Settings
    from qa_service.encoders import encoder_for
    from qa_service.search import Searcher, answer_type
    from qa_service.store import Index
    from qa_service.text import entities, normalize

    questions = [json.loads(line)["question"] for line in
                 args.questions.read_text("utf-8").splitlines() if line.strip()]
    settings = Settings.from_env(index_dir=args.index, answer_types=True)  # off by default
    index = Index.load(settings.index_dir)
    searcher = Searcher(index, encoder_for(settings.model, index.model, serving=True), settings)
    entities.pipeline()
    for question in questions:  # warm: model, caches of passages and question vectors
        searcher.ask(question)
    kind, fresh, known = [], [], []
    for _ in range(args.passes):
        kind.append(per_question(questions, lambda q: entities.answer_kind(normalize(q))))
        fresh.append(per_question(questions, searcher.ask, answer_type.asked.cache_clear))
        for question in questions:
            searcher.ask(question)
        known.append(per_question(questions, searcher.ask))
    print(f"{cpu_name()}; load average {os.getloadavg()[0]:.1f}; {len(questions)} questions "
          f"of {args.questions}, {args.passes} passes; index has typed spans: "
          f"{index.passages.has_types}")
    print(f"answer_kind alone: median {statistics.median(kind):.2f} ms "
          f"(passes {', '.join(f'{v:.2f}' for v in kind)})")
    print(f"ask, kind not known: median {statistics.median(fresh):.2f} ms "
          f"(passes {', '.join(f'{v:.2f}' for v in fresh)})")
    print(f"ask, kind cached:    median {statistics.median(known):.2f} ms "
          f"(passes {', '.join(f'{v:.2f}' for v in known)})")


if __name__ == "__main__":
    main()
