"""A built index, loaded read-only: manifest first, then the files it lists."""

from __future__ import annotations

import logging
import os
import weakref
from dataclasses import dataclass, field
from pathlib import Path

from qa_service.errors import IndexCorrupt
from qa_service.store.layout import hold, resolve
from qa_service.store.lexicon import Lexicon
from qa_service.store.manifest import Manifest
from qa_service.store.names import named
from qa_service.store.passages import FILE as PASSAGES_FILE
from qa_service.store.passages import PassageStore
from qa_service.store.vectors import VectorStore
from qa_service.store.words import WordVectors

log = logging.getLogger(__name__)


@dataclass
class Index:
    """The passages, their vectors and the manifest that describes them."""

    path: Path
    manifest: Manifest
    passages: PassageStore
    vectors: VectorStore
    # The postings for BM25 in memory (None: built before they were written).
    lexicon: Lexicon | None = None
    # The corpus's word vectors (absent, `available` false: built before they were written).
    words: WordVectors | None = None
    # Releases the folder for deletion by a later build: on close(), or when this object
    # is garbage-collected (a server drops an index it replaced once no request uses it).
    release: weakref.finalize | None = field(default=None, repr=False, compare=False)
    # One descriptor per file of the manifest, opened at load: check() asks each for its
    # size, so a file truncated or rewritten in place is seen before it is read (a read
    # past the end of a memory-mapped file kills the process with SIGBUS).
    _files: dict[str, int] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def load(cls, root: Path) -> Index:
        """Open the live index under `root`, checking every file against the manifest."""
        path = resolve(root)
        release = hold(path)
        files: dict[str, int] = {}
        try:
            index = cls._open(path, files)
        except BaseException:
            _close_all(files)
            release()
            raise
        index._files = files
        index.release = weakref.finalize(index, _release, files, release)
        return index

    @classmethod
    def _open(cls, path: Path, files: dict[str, int]) -> Index:
        manifest = Manifest.read(path)
        for name in manifest.files:
            try:
                files[name] = os.open(path / name, os.O_RDONLY | os.O_CLOEXEC)
            except FileNotFoundError:
                raise IndexCorrupt(f"{named(path / name)} is missing: the index is "
                                   "incomplete; rebuild it") from None
        _check_sizes(path, manifest, files)
        passages = PassageStore(path / PASSAGES_FILE)
        vectors = VectorStore(path, manifest.vectors, int(manifest.model["dimension"]))
        counts = manifest.counts
        if vectors.count != counts["passages"] or passages.count("passages") != counts[
            "passages"
        ] or len(vectors.sentences) != counts["sentences"]:
            raise IndexCorrupt(
                f"version {path.name}: passage or sentence counts disagree with the "
                "manifest; rebuild it"
            )
        lexicon = Lexicon(path, passages) if Lexicon.present(manifest.files) else None
        log.info("loaded index %s (%d passages)", path, counts["passages"])
        return cls(path, manifest, passages, vectors, lexicon, WordVectors(path, manifest.files))

    def check(self) -> None:
        """Raise IndexCorrupt if a file of the index no longer has the size it was built with.

        One fstat a file (a few microseconds): cheap enough before every request.
        """
        _check_sizes(self.path, self.manifest, self._files)

    def close(self) -> None:
        self.passages.close()
        if self.release is not None:
            self.release()

    @property
    def model(self) -> str:
        """Return the name of the model the index was built with."""
        return str(self.manifest.model["name"])


def _check_sizes(path: Path, manifest: Manifest, files: dict[str, int]) -> None:
    for name, size in manifest.files.items():
        fd = files.get(name)
        if fd is None:
            continue
        actual = os.fstat(fd).st_size
        if actual != size:
            raise IndexCorrupt(f"{named(path / name)} has {actual} bytes, the manifest says "
                               f"{size}; rebuild the index")


def _close_all(files: dict[str, int]) -> None:
    for fd in files.values():
        os.close(fd)
    files.clear()


def _release(files: dict[str, int], release) -> None:
    _close_all(files)
    release()
