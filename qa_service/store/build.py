"""Build an index folder: ingest, store passages, embed, write vectors and the manifest.

A build writes a new version folder beside the live one and then swaps the `current`
link in one rename, so a reader sees either the old index or the new one, never a mix,
and a build that dies half-way leaves the previous index whole.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import logging
import os
import shutil
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import faiss
import numpy as np

from qa_service import __version__
from qa_service.config import Settings
from qa_service.embed import Encoder
from qa_service.errors import CorpusError, QAError
from qa_service.ingest import content_hash
from qa_service.ingest.parallel import OrderedIngest
from qa_service.ingest.readers import read_corpus
from qa_service.store import layout, vectors
from qa_service.store.engine import Engine, get_engine
from qa_service.store.index import Index, chunking_of
from qa_service.store.manifest import FORMAT, Manifest, snapshot_corpus
from qa_service.store.passages import PassageWriter

log = logging.getLogger(__name__)

_VERSIONED = ("faiss-cpu", "numpy", "sentence-transformers", "torch", "transformers")


@dataclass
class BuildReport:
    """What a build produced, for the summary line."""

    path: Path
    documents: int
    passages: int
    sentences: int
    seconds: float
    vector_index: str
    reused_documents: int = 0
    embedded_passages: int = 0


@dataclass
class _Plan:
    """Where each row of the new index comes from: an old row (reused) or new text."""

    old_passage_rows: list[int] = field(default_factory=list)  # -1: embed
    old_sentence_rows: list[int] = field(default_factory=list)
    new_passages: list[str] = field(default_factory=list)
    new_sentences: list[str] = field(default_factory=list)
    reused_documents: int = 0


def build_index(settings: Settings, encoder: Encoder, progress: bool = False,
                engine: str = "local", full: bool = False) -> BuildReport:
    """Build an index of `settings.corpus` into `settings.index_dir` and make it current.

    Documents whose content hash is unchanged since the live version keep their passages
    and vectors; only new or changed ones are embedded (unless `full`, or the model or
    chunking changed). `engine` names who embeds: "local" or "ray".
    """
    started = time.perf_counter()
    corpus = Path(settings.corpus)
    root = Path(settings.index_dir)
    snapshot = snapshot_corpus(corpus)  # fails early, naming the corpus, if it is missing
    embedder = get_engine(engine, encoder, settings, progress)
    root.mkdir(parents=True, exist_ok=True)
    with _build_lock(root):
        layout.remove_leftovers(root)
        previous = None if full else _reusable(root, settings, encoder)
        work = layout.new_work_folder(root)
        try:
            counts, plan = _write_passages(work, corpus, encoder, settings, previous)
            info = _write_vectors(work, encoder, embedder, settings, counts["passages"], plan,
                                  previous)
            counts_extra = {"reused_documents": plan.reused_documents,
                            "embedded_passages": len(plan.new_passages),
                            "embedded_sentences": len(plan.new_sentences)}
            seconds = round(time.perf_counter() - started, 3)
            Manifest(
                format=FORMAT,
                model={"name": encoder.name, "dimension": encoder.dimension,
                       "max_tokens": encoder.max_tokens,
                       "backend": getattr(encoder, "backend", None)},
                corpus=snapshot,
                chunking=chunking_of(settings),
                counts=counts,
                vectors=info,
                files={p.name: p.stat().st_size for p in sorted(work.iterdir())},
                versions=_versions(),
                built_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                build_seconds=seconds,
                extra={"build": {"engine": engine, **counts_extra}},
            ).write(work)
            _fsync_folder(work)
            final = layout.publish(root, work)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        finally:
            if previous is not None:
                previous.close()
        layout.prune(root, keep=final)
    log.info("index written to %s (%d documents reused, %d passages embedded)", final,
             plan.reused_documents, len(plan.new_passages))
    return BuildReport(final, counts["documents"], counts["passages"], counts["sentences"],
                       seconds, info["type"], plan.reused_documents, len(plan.new_passages))


def _reusable(root: Path, settings: Settings, encoder: Encoder) -> Index | None:
    """Return the live index if its passages and vectors can be reused, else None."""
    try:
        old = Index.load(root)
    except QAError:
        return None  # missing or damaged: build everything
    model = old.manifest.model
    if (model.get("name") != encoder.name or model.get("dimension") != encoder.dimension
            or old.manifest.chunking != chunking_of(settings)
            or not old.passages.content_hashes()
            or old.passages.vocabulary_counts() is None):
        log.info("full build: the live index was made with another model, chunking or "
                 "format")
        old.close()
        return None
    return old


def _write_passages(work: Path, corpus: Path, encoder: Encoder, settings: Settings,
                    previous: Index | None) -> tuple[dict, _Plan]:
    writer = PassageWriter(work / "passages.sqlite")
    plan = _Plan()
    known = previous.passages.content_hashes() if previous is not None else {}
    if previous is not None:
        writer.seed_vocabulary(previous.passages.vocabulary_counts())
    max_tokens = min(settings.max_tokens, encoder.max_tokens)
    reused = set()

    def take(doc_id: str, digest: str, result) -> None:
        if result is None:  # unchanged since the live version: its rows are reused
            reused.add(doc_id)
            doc, passages, rows = previous.passages.stored_document(doc_id)
            plan.old_passage_rows += rows
            plan.old_sentence_rows += previous.passages.sentence_rows(rows) if rows else []
            plan.reused_documents += 1
        else:
            doc, passages = result
            if not passages:
                return
            plan.old_passage_rows += [-1] * len(passages)
            for p in passages:
                plan.new_passages.append(
                    f"{doc.title}. {p.text}" if settings.embed_title and doc.title
                    else p.text)
                plan.old_sentence_rows += [-1] * len(p.sentences)
                plan.new_sentences += [p.text[s:e] for s, e in p.sentences]
        writer.add(doc, passages, digest, counted=doc_id in reused)

    try:
        # An encoder's token_counter pickles, for worker processes; count_tokens may not.
        counter = getattr(encoder, "token_counter", None)
        with OrderedIngest(counter or encoder.count_tokens, max_tokens, settings.min_chars,
                           shareable=counter is not None) as ingest:
            for raw in read_corpus(corpus, settings.max_file_bytes):
                digest = content_hash(raw)
                new = known.get(raw.doc_id) != digest
                for item, result in ingest.put((raw.doc_id, digest), raw if new else None):
                    take(*item, result)
            for item, result in ingest.drain():
                take(*item, result)
        for doc_id in known.keys() - reused:  # changed or deleted: out of the word counts
            for p in previous.passages.stored_document(doc_id)[1]:
                writer.uncount(p.text)
    finally:
        writer.close()
    if writer.passages == 0:
        raise CorpusError(f"no text to index in {corpus}: no file in it gave a passage; "
                          "the index was left as it was")
    return {"documents": writer.documents, "passages": writer.passages,
            "sentences": writer.sentences}, plan


def _assemble(old_rows: list[int], new: np.ndarray, take_old, dimension: int) -> np.ndarray:
    """Interleave reused vectors (by old row) and newly embedded ones, in new row order."""
    rows = np.asarray(old_rows, dtype=np.int64)
    out = np.empty((len(rows), dimension), dtype=np.float32)
    fresh = rows < 0
    out[fresh] = new
    if (~fresh).any():
        out[~fresh] = take_old(rows[~fresh])
    return out


def _write_vectors(work: Path, encoder: Encoder, embedder: Engine, settings: Settings,
                   expected: int, plan: _Plan, previous: Index | None) -> dict:
    dim = encoder.dimension
    new = _check(embedder.embed(plan.new_passages, "passages"), len(plan.new_passages), dim)
    embedded = _assemble(plan.old_passage_rows, new,
                         lambda rows: previous.vectors.vectors(rows.tolist()), dim)
    index, info = vectors.new_index(dim, expected, settings.exact_limit,
                                    previous.vectors if previous is not None else None)
    vectors.fill(index, embedded, info)
    vectors.write(index, work / vectors.FILE)
    del index, embedded
    new = _check(embedder.embed(plan.new_sentences, "sentences"), len(plan.new_sentences), dim)
    sentence_vectors = _assemble(
        plan.old_sentence_rows, new,
        lambda rows: np.asarray(previous.vectors.sentences[rows], dtype=np.float32), dim)
    np.save(work / vectors.SENTENCES_FILE, sentence_vectors, allow_pickle=False)
    return info


def _check(out: np.ndarray, count: int, dimension: int) -> np.ndarray:
    if out.shape != (count, dimension):
        raise QAError(f"encoder returned {out.shape} for {count} texts")
    return out


def _versions() -> dict:
    found = {"qa-service": __version__, "python": sys.version.split()[0],
             "faiss": faiss.__version__}
    for name in _VERSIONED:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return found


def _fsync_folder(folder: Path) -> None:
    # Data reaches the disk before the rename makes it visible.
    for path in folder.iterdir():
        with open(path, "rb") as fh:
            os.fsync(fh.fileno())


@contextmanager
def _build_lock(root: Path):
    """Let one build at a time work in `root`; a second one fails at once."""
    with open(root / layout.LOCK, "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise QAError(f"another build is writing to {root}; try again when it ends") from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
