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
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import faiss
import numpy as np

from qa_service import __version__
from qa_service.config import Settings
from qa_service.embed import Encoder
from qa_service.errors import CorpusError, QAError
from qa_service.ingest import ingest
from qa_service.store import layout, vectors
from qa_service.store.index import chunking_of
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


def build_index(settings: Settings, encoder: Encoder, progress: bool = False) -> BuildReport:
    """Build an index of `settings.corpus` into `settings.index_dir` and make it current."""
    started = time.perf_counter()
    corpus = Path(settings.corpus)
    root = Path(settings.index_dir)
    snapshot = snapshot_corpus(corpus)  # fails early, naming the corpus, if it is missing
    root.mkdir(parents=True, exist_ok=True)
    with _build_lock(root):
        layout.remove_leftovers(root)
        work = layout.new_work_folder(root)
        try:
            counts = _write_passages(work, corpus, encoder, settings)
            info = _write_vectors(work, encoder, settings, counts["passages"], progress)
            seconds = round(time.perf_counter() - started, 3)
            Manifest(
                format=FORMAT,
                model={"name": encoder.name, "dimension": encoder.dimension,
                       "max_tokens": encoder.max_tokens},
                corpus=snapshot,
                chunking=chunking_of(settings),
                counts=counts,
                vectors=info,
                files={p.name: p.stat().st_size for p in sorted(work.iterdir())},
                versions=_versions(),
                built_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                build_seconds=seconds,
            ).write(work)
            _fsync_folder(work)
            final = layout.publish(root, work)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        layout.prune(root, keep=final)
    log.info("index written to %s", final)
    return BuildReport(final, counts["documents"], counts["passages"], counts["sentences"],
                       seconds, info["type"])


def _write_passages(work: Path, corpus: Path, encoder: Encoder, settings: Settings) -> dict:
    writer = PassageWriter(work / "passages.sqlite")
    try:
        for doc, passages in ingest(corpus, encoder.count_tokens,
                                    min(settings.max_tokens, encoder.max_tokens),
                                    settings.min_chars, settings.max_file_bytes):
            writer.add(doc, passages)
    finally:
        writer.close()
    if writer.passages == 0:
        raise CorpusError(f"no text to index in {corpus}: no file in it gave a passage; "
                          "the index was left as it was")
    return {"documents": writer.documents, "passages": writer.passages,
            "sentences": writer.sentences}


def _write_vectors(work: Path, encoder: Encoder, settings: Settings, expected: int,
                   progress: bool) -> dict:
    from qa_service.store.passages import PassageStore

    store = PassageStore(work / "passages.sqlite")
    index, info = vectors.new_index(encoder.dimension, expected, settings.exact_limit)
    texts, sentence_texts = store.texts(with_title=settings.embed_title)
    embedded = _encode(encoder, texts, settings.batch_size, progress, "passages")
    if not index.is_trained:
        index.train(embedded)
    index.add(embedded)
    vectors.write(index, work / vectors.FILE)
    sentence_vectors = _encode(encoder, sentence_texts, settings.batch_size, progress,
                               "sentences")
    np.save(work / vectors.SENTENCES_FILE, sentence_vectors, allow_pickle=False)
    store.close()
    return info


def _encode(encoder: Encoder, texts: list[str], batch_size: int, progress: bool,
            what: str) -> np.ndarray:
    if progress:
        print(f"Embedding {len(texts)} {what}", file=sys.stderr)
    out = encoder.encode(texts, batch_size=batch_size, progress=progress)
    if out.shape != (len(texts), encoder.dimension):
        raise QAError(f"encoder returned {out.shape} for {len(texts)} {what}")
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
