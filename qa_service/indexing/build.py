"""Build an index folder: ingest, store passages, embed, write vectors and the manifest.

The build works in a new folder beside the live version and publishes it in one rename
(see indexing.publish), so a reader sees the old index or the new one, never a mix.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import faiss
import numpy as np

from qa_service import __version__
from qa_service.config import Settings
from qa_service.encoders import Encoder
from qa_service.errors import QAError
from qa_service.indexing.engines import Engine, get_engine
from qa_service.indexing.freshness import chunking_of, compatible
from qa_service.indexing.lexicon import write_lexicon
from qa_service.indexing.passages import Plan, write_passages
from qa_service.indexing.publish import (
    build_lock,
    fsync_folder,
    new_work_folder,
    prune,
    publish,
    remove_leftovers,
)
from qa_service.indexing.snapshot import as_indexed, snapshot_corpus
from qa_service.indexing.stages import Stage, record
from qa_service.indexing.vector_index import fill, new_index, write_faiss
from qa_service.indexing.words import write_word_vectors
from qa_service.indexing.writes import writing
from qa_service.ingest.readers import Skips, hashed_as_read
from qa_service.store import FORMAT, MANIFEST, Index, Manifest
from qa_service.store.passages import FILE as PASSAGES_FILE
from qa_service.store.vectors import FILE as VECTORS_FILE
from qa_service.store.vectors import SENTENCES_FILE

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
    skipped: Skips = field(default_factory=Skips)  # files left out, by reason
    cleaning: dict = field(default_factory=dict)  # rule: [chars, sentences, documents]
    stages: dict[str, Stage] = field(default_factory=dict)  # what each stage took, where


def build_index(settings: Settings, encoder: Encoder, progress: bool = False,
                engine: str = "local", full: bool = False) -> BuildReport:
    """Build an index of `settings.corpus` into `settings.index_dir` and make it current.

    Documents whose content hash is unchanged since the live version keep their passages
    and vectors; only new or changed ones are embedded (unless `full`, or the model, the
    kind of vectors its backend computes, or the chunking changed). `engine` names who
    embeds: "local" or "ray"; `progress` shows on stderr how far reading the corpus and
    embedding are.
    """
    started = time.perf_counter()
    root = Path(settings.index_dir)
    # Fails early, naming a missing corpus. The files the build reads are hashed as they
    # are read (as_indexed below records those hashes), not here as well.
    snapshot = snapshot_corpus(settings.corpus, hashed_later=hashed_as_read(
        settings.corpus, settings.build.max_file_bytes))
    embedder = get_engine(engine, encoder, settings, progress)
    root.mkdir(parents=True, exist_ok=True)
    with build_lock(root):
        remove_leftovers(root)
        previous = None if full else _reusable(root, settings, encoder)
        try:
            with writing("a build folder", root):
                work = new_work_folder(root)
        except BaseException:
            if previous is not None:
                previous.close()
            raise
        try:
            skipped, read = Skips(), {}
            # Each stage has its own clock: `started` times the whole build, ingest included.
            stage = time.perf_counter()
            with writing(PASSAGES_FILE, root):
                counts, plan = write_passages(work / PASSAGES_FILE, encoder, settings,
                                              previous, skipped, read, progress,
                                              snapshot["files"], embedder)
            # Reading, cleaning and chunking included: the SQLite writes wait on them.
            record(embedder.stages, "passages written", stage, counts["passages"])
            stage = time.perf_counter()
            with writing("the lexicon", root):
                # The build before's postings of the passages reused are kept, renumbered.
                write_lexicon(work / PASSAGES_FILE,
                              previous.passages.path if previous is not None else None,
                              plan.old_passage_rows)
            record(embedder.stages, "lexicon written", stage, counts["passages"])
            # The manifest records the hashes of the bytes indexed, taken as they were read.
            snapshot = as_indexed(snapshot, read)
            info = _write_vectors(work, root, encoder, embedder, settings, counts["passages"],
                                  plan, previous)
            with writing("the word vectors", root):
                write_word_vectors(work, encoder,
                                   previous.words if previous is not None else None,
                                   embedder.stages, progress)
            seconds = round(time.perf_counter() - started, 3)
            manifest = Manifest(
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
                extra={"build": {"engine": engine, "reused_documents": plan.reused_documents,
                                 "embedded_passages": len(plan.new_passages),
                                 "embedded_sentences": sum(map(len, plan.new_spans)),
                                 "stages": _stages(embedder.stages)}},
            )
            with writing(MANIFEST, root):
                _write_manifest(manifest, work)
            with writing("the files", root):
                fsync_folder(work)
            with writing("the `current` link", root):
                final = publish(root, work)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        finally:
            if previous is not None:
                previous.close()
        prune(root, keep=final)
    log.info("index written to %s (%d documents reused, %d passages embedded)", final,
             plan.reused_documents, len(plan.new_passages))
    log.info("%s", skipped.summary())
    return BuildReport(final, counts["documents"], counts["passages"], counts["sentences"],
                       seconds, info["type"], plan.reused_documents, len(plan.new_passages),
                       skipped, plan.cleaning, dict(embedder.stages))


def _reusable(root: Path, settings: Settings, encoder: Encoder) -> Index | None:
    """Return the live index if its passages and vectors can be reused, else None."""
    try:
        old = Index.load(root)
    except QAError:
        return None  # missing or damaged: build everything
    reason = compatible(old.manifest, encoder.name, encoder.backend, chunking_of(settings),
                        encoder.dimension)
    if reason is None and (not old.passages.content_hashes()
                           or old.passages.vocabulary_counts() is None):
        reason = "it was written in an older format"
    if reason:
        log.info("full build: nothing of the live index can be reused, as %s", reason)
        old.close()
        return None
    return old


def _assemble(old_rows: list[int], new: np.ndarray, take_old, dimension: int) -> np.ndarray:
    """Interleave reused vectors (by old row) and newly embedded ones, in new row order.

    `take_old(start, stop)`: the old rows start..stop-1. Reused rows come in long runs
    of consecutive old rows (documents keep their order), each taken as one slice: a
    memory copy, where gathering row by row cost seconds for 100k sentence vectors.
    """
    rows = np.asarray(old_rows, dtype=np.int64)
    out = np.empty((len(rows), dimension), dtype=np.float32)
    fresh = rows < 0
    out[fresh] = new
    reused = np.flatnonzero(~fresh)
    if len(reused):
        # A run breaks where the new rows or the old rows stop following each other.
        breaks = np.flatnonzero((np.diff(reused) != 1) | (np.diff(rows[reused]) != 1)) + 1
        for run in np.split(reused, breaks):
            start = int(rows[run[0]])
            out[run[0]:run[-1] + 1] = take_old(start, start + len(run))
    return out


def _write_vectors(work: Path, root: Path, encoder: Encoder, embedder: Engine,
                   settings: Settings, expected: int, plan: Plan, previous: Index | None
                   ) -> dict:
    dim = encoder.dimension
    new, new_sentences = embedder.embed_passages(plan.new_passages, plan.new_spans)
    new = _check(new, len(plan.new_passages), dim)
    embedded = _assemble(plan.old_passage_rows, new,
                         lambda a, b: previous.vectors.vectors(list(range(a, b))), dim)
    started = time.perf_counter()
    index, info = new_index(dim, expected, settings.build.exact_limit,
                            previous.vectors if previous is not None else None)
    fill(index, embedded, info)
    with writing(VECTORS_FILE, root, faiss=True):
        write_faiss(index, work / VECTORS_FILE)
    record(embedder.stages, "vector index written", started, len(embedded))
    del index, embedded
    new = _check(new_sentences, sum(map(len, plan.new_spans)), dim)
    sentence_vectors = _assemble(
        plan.old_sentence_rows, new,
        lambda a, b: np.asarray(previous.vectors.sentences[a:b], dtype=np.float32), dim)
    started = time.perf_counter()
    with writing(SENTENCES_FILE, root):
        np.save(work / SENTENCES_FILE, sentence_vectors, allow_pickle=False)
    record(embedder.stages, "sentence vectors written", started, len(sentence_vectors))
    return info


def _stages(stages: dict[str, Stage]) -> dict:
    """Return what each stage took, and the Ray nodes it ran on, for the manifest."""
    return {name: {"seconds": round(stage.seconds, 3), "items": stage.items,
                   **({"nodes": sorted(stage.nodes)} if stage.nodes else {})}
            for name, stage in stages.items()}


def _check(out: np.ndarray, count: int, dimension: int) -> np.ndarray:
    if out.shape != (count, dimension):
        raise QAError(f"encoder returned {out.shape} for {count} texts")
    return out


def _write_manifest(manifest: Manifest, folder: Path) -> None:
    """Write the manifest through a temporary file, flushed, then renamed into place."""
    path = folder / MANIFEST
    tmp = path.with_suffix(".tmp")
    tmp.write_text(manifest.to_json(), "utf-8")
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _versions() -> dict:
    found = {"qa-service": __version__, "python": sys.version.split()[0],
             "faiss": faiss.__version__}
    for name in _VERSIONED:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return found
