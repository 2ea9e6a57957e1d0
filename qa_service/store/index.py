"""A built index, loaded read-only: manifest first, then the files it lists."""

from __future__ import annotations

import logging
import weakref
from dataclasses import dataclass, field
from pathlib import Path

from qa_service.errors import IndexCorrupt
from qa_service.store.layout import hold, resolve
from qa_service.store.manifest import Manifest
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
        path = resolve(root)
        release = hold(path)
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
        """Return the name of the model the index was built with."""
        return str(self.manifest.model["name"])
