"""Whether an index still fits: one rule for "are these vectors compatible?", used both to
call an index stale and to reuse its vectors in the next build."""

from __future__ import annotations

from pathlib import Path

from qa_service.config import Settings
from qa_service.encoders import effective_backend, is_model_free, vector_kind
from qa_service.errors import CorpusError, IndexCorrupt, IndexMissing
from qa_service.indexing.snapshot import describe_changes, snapshot_corpus
from qa_service.ingest import INGEST_VERSION
from qa_service.store import Index, Manifest
from qa_service.store.words import FILES as WORD_FILES


def chunking_of(settings: Settings) -> dict:
    """Return what decides how a corpus is cut into passages and sentences embedded, as the
    manifest records it."""
    build = settings.build
    return {"max_tokens": build.max_tokens, "min_chars": build.min_chars,
            "embed_title": build.embed_title, "ingest_version": INGEST_VERSION,
            "sentence_vectors": build.sentence_vectors}


def compatible(manifest: Manifest, model: str, backend: str | None, chunking: dict,
               dimension: int | None = None) -> str | None:
    """Say why the passages and vectors an index holds differ from those a build would
    make now with `model` run by `backend` (None: a model-free encoder), or None.

    Passages depend on the chunking, vectors on the model and on the kind of vector its
    backend computes (see encoders.vector_kind): staleness and reuse both ask this.
    """
    built = manifest.model
    if built.get("name") != model:
        return f"it was built with model {built.get('name')!r}, not {model!r}"
    if dimension is not None and built.get("dimension") != dimension:
        return (f"its vectors have {built.get('dimension')} dimensions, model {model!r} "
                f"gives {dimension}")
    if backend is not None:
        before = built.get("backend") or "torch"  # built before backends were recorded
        if vector_kind(before) != vector_kind(backend):
            return f"its vectors come from backend {before!r}, builds now use {backend!r}"
    if manifest.chunking != chunking:
        return f"its chunking settings {manifest.chunking} differ from {chunking}"
    return None


def stale_reason(manifest: Manifest, settings: Settings, corpus: Path | None = None
                 ) -> str | None:
    """Say why an index built as `manifest` describes is out of date, or None."""
    name = settings.model.name
    backend = None if is_model_free(name) else effective_backend(settings.model)
    reason = compatible(manifest, name, backend, chunking_of(settings))
    if reason:
        return reason
    if not all(name in manifest.files for name in WORD_FILES):
        # The ranker reads them; a rebuild reuses every passage and vector and adds them.
        return "it was built before word vectors were written"
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
        return stale_reason(index.manifest, settings, corpus)
    finally:
        index.close()
