"""Measure what cleaning removes from a collection, and whether it loses judged documents.

Usage:
    python benchmarks/cleaning.py ../shared/eval/realtimeqa-train [--show 10]

Runs ingest (cleaning and chunking, as a build does, with the first pass that finds
lines repeated across a source's documents) on every document of a folder or BEIR
collection and prints: the documents emptied by cleaning, how many of them are judged
relevant in the collection's qrels (a relevant document lost is an answer lost: this
must be 0), and the characters, sentences and documents each rule removed. Skips with
a message when the collection is absent (a fresh clone has no ../shared).
"""

from __future__ import annotations

import argparse
import csv
import logging
import sys
import time
from pathlib import Path


def relevant_ids(collection: Path) -> set[str]:
    """Return every corpus id judged relevant in any qrels/*.tsv of the collection."""
    ids = set()
    for path in sorted((collection / "qrels").glob("*.tsv")):
        with open(path, encoding="utf-8") as fh:
            for row in csv.DictReader(fh, delimiter="\t"):
                if int(row.get("score") or 0) > 0:
                    ids.add(row["corpus-id"])
    return ids


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("collection", type=Path, help="a corpus folder or BEIR folder")
    parser.add_argument("--show", type=int, default=10, help="emptied documents to print")
    args = parser.parse_args(argv)
    if not args.collection.exists():
        print(f"skipped: {args.collection} not found (it lives in ../shared/eval)")
        return 0

    from qa_service.ingest import ingest_document, read_corpus
    from qa_service.ingest.boilerplate import corpus_repeated_lines
    from qa_service.ingest.story import add_up, summary

    logging.disable(logging.WARNING)  # every emptied document is listed below instead
    started = time.perf_counter()
    boilerplate = corpus_repeated_lines(args.collection)  # as the build counts them
    relevant = relevant_ids(args.collection) if (args.collection / "qrels").is_dir() else set()
    totals: dict = {}
    documents = chars = 0
    emptied = []
    for raw in read_corpus(args.collection):
        doc, passages = ingest_document(raw, boilerplate=boilerplate)
        documents += 1
        chars += len(raw.raw)
        add_up(totals, doc.cleaning)
        if not passages and raw.raw.strip():
            emptied.append(raw)
    lost = [raw for raw in emptied if raw.doc_id in relevant]
    removed = sum(c for c, _, _ in totals.values())
    print(f"{args.collection}: {documents:,} documents, {chars:,} characters, "
          f"{len(boilerplate)} repeated lines, {time.perf_counter() - started:.1f} s")
    print(f"documents emptied by cleaning: {len(emptied)}; judged relevant: {len(lost)} "
          f"(of {len(relevant):,} relevant)")
    print(f"characters removed: {removed:,} ({100 * removed / max(chars, 1):.2f}%)")
    print(summary(totals))
    for raw in emptied[: args.show]:
        print(f"  emptied {raw.doc_id}{' (relevant)' if raw in lost else ''}: "
              f"{raw.raw[:100]!r}")
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main())
