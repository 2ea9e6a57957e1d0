"""Adding one document to a ~10k-passage index: an incremental build versus a full one.

Usage:
    python benchmarks/incremental.py [--passages 10000] [--workdir /tmp/incremental]

Writes a synthetic text corpus (documents of 5 paragraphs, each paragraph 3-5 random
sentences of real text: SQuAD passages from ../shared/eval/squad-train-sample when present,
else the default corpus), builds its index, adds one document and builds again with the
real model (all-MiniLM-L6-v2), timing each step.

Embedding 10k passages and their sentences with the real model takes most of an hour on
2 busy cores, so the first build uses a stand-in encoder with the real model's name,
dimension and tokenizer but hash vectors: the index it leaves has the real format and is
reused exactly as a real one would be. The full-build figure printed beside it is
extrapolated from the real model's embedding rate measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qa_service.config import Settings  # noqa: E402
from qa_service.encoders import HashEncoder, get_encoder  # noqa: E402
from qa_service.indexing import build_index  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SQUAD = REPO.parent / "shared" / "eval" / "squad-train-sample" / "corpus.jsonl"
PARAGRAPHS = 5


class StandIn(HashEncoder):
    """The real model's name, dimension and tokenizer, with hash vectors (fast)."""

    def __init__(self, real):
        super().__init__(real.dimension)
        self.name, self.max_tokens = real.name, real.max_tokens
        self.count_tokens = self.token_counter = real.token_counter


def sentences() -> list[str]:
    if SQUAD.is_file():
        texts = [json.loads(line)["text"] for line in SQUAD.open(encoding="utf-8")]
    else:
        texts = [p.read_text("utf-8") for p in (REPO / "corpus").glob("*.txt")]
    found = [s.strip() for t in texts for s in re.split(r"(?<=[.!?])\s+", t)]
    return [s for s in found if 40 <= len(s) <= 300]


def write_document(path: Path, pool: list[str], rng: random.Random) -> None:
    paragraphs = [" ".join(rng.sample(pool, rng.randint(3, 5))) for _ in range(PARAGRAPHS)]
    path.write_text(f"Report {path.stem}\n\n" + "\n\n".join(paragraphs) + "\n", "utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--passages", type=int, default=10_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/qa-incremental"))
    args = parser.parse_args()
    shutil.rmtree(args.workdir, ignore_errors=True)
    corpus = args.workdir / "corpus"
    corpus.mkdir(parents=True)
    rng = random.Random(5)
    pool = sentences()
    for i in range(args.passages // PARAGRAPHS):
        write_document(corpus / f"doc{i:05d}.txt", pool, rng)
    settings = Settings(corpus=corpus, index_dir=args.workdir / "index")

    started = time.perf_counter()
    real = get_encoder(settings.model.name)
    print(f"model loaded in {time.perf_counter() - started:.1f} s")
    first = build_index(settings, StandIn(real))
    print(f"first build: {first.documents} documents, {first.passages} passages, "
          f"{first.sentences} sentences in {first.seconds:.1f} s (stand-in vectors)")

    write_document(corpus / "new-report.txt", pool, rng)
    report = build_index(settings, real)
    print(f"add one document: {report.reused_documents} documents reused, "
          f"{report.embedded_passages} passages embedded, total {report.passages} passages "
          f"[{report.vector_index}] in {report.seconds:.2f} s (real model)")
    (corpus / "doc00000.txt").unlink()
    report = build_index(settings, real)
    print(f"delete one document: {report.passages} passages in {report.seconds:.2f} s")

    # The real model's embedding rate on passages and sentences, for a full build.
    from qa_service.ingest import ingest_document, read_corpus

    ingested = [p for raw in read_corpus(corpus) for p in ingest_document(raw)[1]]
    passages = [p.text for p in ingested]
    sents = [p.text[s:e] for p in ingested for s, e in p.sentences]
    sample_p, sample_s = passages[:256], sents[:1024]
    started = time.perf_counter()
    real.encode(sample_p, batch_size=settings.build.batch_size)
    per_passage = (time.perf_counter() - started) / len(sample_p)
    started = time.perf_counter()
    real.encode(sample_s, batch_size=settings.build.batch_size)
    per_sentence = (time.perf_counter() - started) / len(sample_s)
    full = per_passage * len(passages) + per_sentence * len(sents)
    print(f"real model: {1000 * per_passage:.1f} ms a passage, {1000 * per_sentence:.1f} ms "
          f"a sentence -> a full build would embed for ~{full:.0f} s")


if __name__ == "__main__":
    main()
