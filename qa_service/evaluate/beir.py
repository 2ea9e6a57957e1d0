"""Evaluate on a BEIR-format folder: corpus.jsonl, queries.jsonl, qrels/<split>.tsv."""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass
from pathlib import Path

import ir_measures
from ir_measures import RR, R, Success, nDCG

from qa_service.errors import CorpusError
from qa_service.progress import Progress
from qa_service.search import Searcher

MEASURES = {"ndcg@10": nDCG @ 10, "recall@10": R @ 10, "recall@100": R @ 100,
            "mrr@10": RR @ 10, "hit@1": Success @ 1}
DEPTH = 100
# A query longer than this is cut: BEIR queries are sentences, a longer one is not asked.
QUERY_CHARS = 4000


@dataclass
class Collection:
    """A BEIR folder's paths and judgements."""

    folder: Path
    split: str
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]

    @property
    def corpus(self) -> Path:
        return self.folder / "corpus.jsonl"


def load_collection(folder: Path, split: str | None = None) -> Collection:
    """Read a BEIR folder; the split defaults to `test`, else the only qrels file."""
    folder = Path(folder)
    if not (folder / "corpus.jsonl").is_file() or not (folder / "queries.jsonl").is_file():
        raise CorpusError(f"{folder} is not a BEIR folder: corpus.jsonl and queries.jsonl "
                          "are needed")
    splits = sorted(p.stem for p in (folder / "qrels").glob("*.tsv"))
    if split is None:
        split = "test" if "test" in splits else (splits[0] if len(splits) == 1 else None)
    if split not in splits:
        raise CorpusError(f"no qrels/{split}.tsv in {folder} (found: {', '.join(splits)})")
    qrels: dict[str, dict[str, int]] = {}
    with open(folder / "qrels" / f"{split}.tsv", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            try:
                qrels.setdefault(row["query-id"], {})[row["corpus-id"]] = int(row["score"])
            except (KeyError, ValueError, TypeError) as exc:
                raise CorpusError(f"{folder}/qrels/{split}.tsv: bad line ({exc})") from None
    queries = {}
    with open(folder / "queries.jsonl", encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if line.strip():
                try:
                    row = json.loads(line)
                    queries[str(row["_id"])] = str(row["text"])
                except (ValueError, KeyError, TypeError) as exc:
                    raise CorpusError(f"{folder}/queries.jsonl:{n}: bad line ({exc})") from None
    queries = {qid: text for qid, text in queries.items() if qid in qrels}
    return Collection(folder, split, queries, qrels)


def sample_ids(collection: Collection, sample: int | None, seed: int = 0) -> list[str]:
    """Return the query ids to run: all, or a reproducible random sample."""
    ids = sorted(collection.queries)
    if sample and sample < len(ids):
        ids = sorted(random.Random(seed).sample(ids, sample))
    return ids


def ranked_documents(searcher: Searcher, text: str) -> dict[str, float]:
    """Return a query's documents, best first, each scored by its best passage's place.

    The first are those of the passages an answer would list, in its order: the ranking
    of the candidates the service takes (`candidates` from each retriever, as the ranker
    was trained). Recall@100 needs more than they hold, so the passages of a search
    DEPTH deep follow, in its order; ranking that whole deeper set first would measure a
    ranking the service never serves (its top 10 scored 0.5-1.2 MRR@10 points lower on
    the training collections).
    """
    served = searcher.rank(text, (), searcher.ranking.candidates)
    rows, records = list(served.rows), dict(served.records)
    if len(rows) < DEPTH:
        deeper = searcher.rank(text, (), DEPTH)
        seen = set(rows)
        rows += [row for row in deeper.rows if row not in seen]
        records.update(deeper.records)
    docs: dict[str, float] = {}
    for i, row in enumerate(rows[:DEPTH]):  # ir-measures orders by score
        docs.setdefault(records[row]["doc_id"], float(DEPTH * 10 - i))
    return docs


def evaluate_beir(searcher: Searcher, collection: Collection, ids: list[str],
                  progress: Progress | None = None) -> dict:
    """Rank documents for each query (a document's best passage) and score the run;
    count each query done in `progress` if given."""
    run = {}
    for qid in ids:
        run[qid] = ranked_documents(searcher, collection.queries[qid][:QUERY_CHARS])
        if progress:
            progress.update()
    qrels = {qid: collection.qrels[qid] for qid in ids}
    found = ir_measures.calc_aggregate(list(MEASURES.values()), qrels, run)
    return {"queries": len(ids), **{name: round(float(found[m]), 3)
                                    for name, m in MEASURES.items()}}
