"""A built index, loaded read-only: manifest first, then the files it lists."""

from __future__ import annotations

import logging
import weakref
from dataclasses import dataclass, field
from pathlib import Path

from qa_service.config import Settings
from qa_service.embed import effective_backend
from qa_service.errors import CorpusError, IndexCorrupt, IndexMissing
from qa_service.ingest import INGEST_VERSION
from qa_service.store import layout
from qa_service.store.manifest import Manifest, describe_changes, snapshot_corpus
from qa_service.store.passages import FILE as PASSAGES_FILE
from qa_service.store.passages import PassageStore
from qa_service.store.vectors import VectorStore

log = logging.getLogger(__name__)


@dataclass
class Index:
    """The passages, their vectors and the manifest that describes them."""

    path: Path
    manifest: Manifest
    passages: PassageStore
    vectors: VectorStore
    # Releases the folder for deletion by a later build: on close(), or when this object
    # is garbage-collected (a server drops an index it replaced once no request uses it).
    release: weakref.finalize | None = field(default=None, repr=False, compare=False)

    @classmethod
    def load(cls, root: Path) -> Index:
        """Open the live index under `root`, checking every file against the manifest."""
        path = layout.resolve(root)
        release = layout.hold(path)
        try:
            index = cls._open(path)
        except BaseException:
            release()
            raise
        index.release = weakref.finalize(index, release)
        return index

    @classmethod
    def _open(cls, path: Path) -> Index:
        manifest = Manifest.read(path)
        for name, size in manifest.files.items():
            file = path / name
            if not file.is_file():
                raise IndexCorrupt(f"{file} is missing: the index is incomplete; rebuild it")
            if file.stat().st_size != size:
                raise IndexCorrupt(
                    f"{file} has {file.stat().st_size} bytes, the manifest says {size}; "
                    "rebuild the index"
                )
        passages = PassageStore(path / PASSAGES_FILE)
        vectors = VectorStore(path, manifest.vectors, int(manifest.model["dimension"]))
        counts = manifest.counts
        if vectors.count != counts["passages"] or passages.count("passages") != counts[
            "passages"
        ] or len(vectors.sentences) != counts["sentences"]:
            raise IndexCorrupt(
                f"{path}: passage or sentence counts disagree with the manifest; rebuild it"
            )
        log.info("loaded index %s (%d passages)", path, counts["passages"])
        return cls(path, manifest, passages, vectors)

    def close(self) -> None:
        self.passages.close()
        if self.release is not None:
            self.release()

    @property
    def model(self) -> str:
        return str(self.manifest.model["name"])

    def staleness(self, settings: Settings, corpus: Path | None = None) -> str | None:
        """Say why this index no longer matches the corpus and settings, or None."""
        return stale_reason(self.manifest, settings, corpus)


def chunking_of(settings: Settings) -> dict:
    """Return what decides how a corpus is cut into passages, as the manifest records it."""
    return {"max_tokens": settings.max_tokens, "min_chars": settings.min_chars,
            "embed_title": settings.embed_title, "ingest_version": INGEST_VERSION}


def stale_reason(manifest: Manifest, settings: Settings, corpus: Path | None = None
                 ) -> str | None:
    """Say why an index built as `manifest` describes is out of date, or None."""
    if manifest.model.get("name") != settings.model:
        return f"it was built with model {manifest.model.get('name')!r}, not {settings.model!r}"
    built, wanted = manifest.model.get("backend") or "torch", effective_backend(settings)
    if not settings.model.startswith("hash:") and (built == "int8") != (wanted == "int8"):
        # int8 and full-precision vectors of one text differ (cosine ~0.99), so an index
        # built one way is out of date for builds set the other way. (Questions may differ
        # from the index: `query_backend`, measured in docs/performance.md.)
        return f"its vectors come from backend {built!r}, builds now use {wanted!r}"
    chunking = chunking_of(settings)
    if manifest.chunking != chunking:
        return f"its chunking settings {manifest.chunking} differ from {chunking}"
    corpus = Path(corpus or manifest.corpus.get("path", ""))
    try:
        now = snapshot_corpus(corpus, manifest.corpus)
    except CorpusError:
        return f"its corpus {corpus} is gone"
    change = describe_changes(manifest.corpus, now)
    return f"{change} since it was built" if change else None


def check(root: Path, settings: Settings, corpus: Path | None = None) -> str | None:
    """Say why the index under `root` must be (re)built, or None when it is up to date."""
    try:
        index = Index.load(root)
    except IndexMissing:
        return f"there is no index in {root} yet"
    except IndexCorrupt as exc:
        return exc.message
    try:
        return index.staleness(settings, corpus)
    finally:
        index.close()
