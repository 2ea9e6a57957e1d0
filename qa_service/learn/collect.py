"""Gather training examples: every signal of every candidate, for questions on a collection.

A question asked of its own collection has judged passages (its qrels). Two kinds stand
for a question the corpus does not answer: one asked of another collection (off the
topic), and a near miss: a question asked of its own collection with the documents that
answer it taken out of the candidates, so the rest of its article or week stays (on the
topic, the answer missing), as a news archive that lacks a week meets questions on it.
"""

from __future__ import annotations

import gzip
import logging
import pickle
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qa_service.ingest import file_sha256
from qa_service.progress import tracked
from qa_service.search import Searcher
from qa_service.search.signals import SIGNALS

log = logging.getLogger(__name__)
QUESTION_CHARS = 4000  # as evaluation cuts long queries (SciFact claims are short)


@dataclass
class Example:
    """One question's candidates on one collection, with every signal and the judgements."""

    collection: str  # the corpus it was asked of
    origin: str  # the collection the question comes from
    qid: str
    doc_ids: list[str]  # per candidate
    signals: dict[str, np.ndarray]  # name -> value per candidate
    labels: np.ndarray  # per candidate: the qrels grade of its document (0: not judged)
    judged: dict[str, int]  # the question's qrels (empty when asked of another collection)
    removed: bool = False  # a near miss: asked with the documents that answer it left out
    question: str = ""  # its text, for the report by kind of question

    @property
    def own(self) -> bool:
        """Asked of its own collection with its answer there (so the corpus answers it)."""
        return self.origin == self.collection and not self.removed


@dataclass
class ExampleSet:
    """Every example gathered, and what they came from."""

    examples: list[Example] = field(default_factory=list)
    sources: list[dict] = field(default_factory=list)  # one per collection: what was read

    def save(self, path: Path) -> None:
        with gzip.open(path, "wb") as fh:
            pickle.dump(self, fh)

    @staticmethod
    def load(path: Path) -> ExampleSet:
        with gzip.open(path, "rb") as fh:
            return pickle.load(fh)


def collect(searcher: Searcher, collection: str, origin: str, queries: dict[str, str],
            qrels: dict[str, dict[str, int]], removed: dict[str, frozenset[str]] | None = None
            ) -> list[Example]:
    """Run each question through retrieval and record every signal of its candidates;
    with `removed`, each question's candidates leave out the documents named for it."""
    found = []
    what = f"Gathering {origin} on {collection}" + (" without its answers" if removed else "")
    for qid, text in tracked(queries.items(), len(queries), what, "questions"):
        without = removed.get(qid, frozenset()) if removed is not None else frozenset()
        candidates = searcher.candidates(text[:QUESTION_CHARS], without=without)
        rows = candidates.rows
        if not rows:
            continue
        records = candidates.records
        doc_ids = [records[r]["doc_id"] for r in rows]
        signals = {}
        for signal in SIGNALS:
            scores = signal.compute(candidates)
            signals[signal.name] = np.fromiter((scores.get(r, 0.0) for r in rows),
                                               dtype=np.float32, count=len(rows))
        judged = qrels.get(qid, {}) if origin == collection and removed is None else {}
        labels = np.array([judged.get(d, 0) for d in doc_ids], dtype=np.int8)
        found.append(Example(collection, origin, qid, doc_ids, signals, labels, judged,
                             removed is not None, text[:QUESTION_CHARS]))
    return found


def release(qid: str) -> str:
    """The release a question came in: RealTime QA's ids are `<week>_<n>`, and a week's
    questions are on that week's news; any other id stands alone."""
    head, sep, tail = qid.rpartition("_")
    return head if sep and head and tail.isdigit() else qid


def answers_removed(qids: list[str], qrels: dict[str, dict[str, int]]
                    ) -> dict[str, frozenset[str]]:
    """For each question, the documents a near miss leaves out: those judged for it and
    for every question of its release (a week of news the archive then lacks)."""
    by_release: dict[str, set[str]] = {}
    for qid, judged in qrels.items():
        by_release.setdefault(release(qid), set()).update(
            d for d, grade in judged.items() if grade > 0)
    return {q: frozenset(by_release.get(release(q), ())) for q in qids}


def gather(searchers: dict[str, Searcher], collections: dict, sample: int | None,
           foreign: int, seed: int, near_misses: bool = True) -> ExampleSet:
    """Ask each collection's questions (up to `sample`) of its own corpus, with and (near
    misses) without the documents that answer them, and `foreign` questions from each
    other collection of it as ones it does not answer."""
    import random

    from qa_service.evaluate import sample_ids

    data = ExampleSet()
    chosen = {name: sample_ids(c, sample, seed) for name, c in collections.items()}
    for name, searcher in searchers.items():
        own = collections[name]
        asked = {q: own.queries[q] for q in chosen[name]}
        data.examples += collect(searcher, name, name, asked, own.qrels)
        if near_misses:
            data.examples += collect(searcher, name, name, asked, own.qrels,
                                     answers_removed(list(asked), own.qrels))
        for other, collection in collections.items():
            if other == name or not foreign:
                continue
            ids = sorted(random.Random(f"{seed}:{name}:{other}").sample(
                chosen[other], min(foreign, len(chosen[other]))))
            data.examples += collect(searcher, name, other,
                                     {q: collection.queries[q] for q in ids}, {})
        data.sources.append({
            "collection": name, "folder": str(own.folder), "split": own.split,
            "questions": len(chosen[name]), "of": len(own.queries),
            "passages": searcher.index.passages.count("passages"),
            # Which backend embedded the index (int8 vectors differ a little from fp32):
            # a ranker is fitted on one kind's cosines.
            "backend": searcher.index.manifest.model.get("backend"),
            # The features are read over this many candidates from each retriever: a
            # server taking another number ranks a set the ranker has not seen.
            "candidates": searcher.ranking.candidates,
            # answer_type reads spaCy's kinds or the patterns by this setting: a server
            # taking the other reads a signal the ranker has not seen.
            "answer_types": searcher.ranking.answer_types,
            "sha256": {f: file_sha256(own.folder / f) for f in
                       ("corpus.jsonl", "queries.jsonl", f"qrels/{own.split}.tsv")},
        })
    return data
