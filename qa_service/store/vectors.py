"""Passage vectors in FAISS and sentence vectors in .npy, opened read-only.

Every index is read memory-mapped, so several server processes share one copy of the
vectors through the page cache instead of holding one each. Which index a build writes
(flat, IVF) is chosen in qa_service.indexing.vector_index.
"""

from __future__ import annotations

import logging
from pathlib import Path

import faiss
import numpy as np

from qa_service.errors import IndexCorrupt
from qa_service.store.names import named

log = logging.getLogger(__name__)

FILE = "passages.faiss"
SENTENCES_FILE = "sentences.npy"
# Search breadth of an approximate index whose manifest names none (older builds).
HNSW_EF_SEARCH = 128
# IVF: nprobe 32 keeps recall@10 >= 0.99 against exact at 1M (benchmarks/growth.py).
IVF_NPROBE = 32
# Memory-map the vectors (flat codes, HNSW storage, IVF lists) read-only: processes share
# the pages. (IO_FLAG_MMAP is the older on-disk-lists hook and refuses a mapped reader.)
READ_FLAGS = faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY


def read(path: Path) -> faiss.Index:
    """Open an index file read-only and memory-mapped (where FAISS can for its type)."""
    return faiss.read_index(str(path), READ_FLAGS)


class VectorStore:
    """A loaded FAISS index (passages) and the sentence vectors beside it."""

    def __init__(self, folder: Path, info: dict, dimension: int):
        path = Path(folder) / FILE
        self.info = info
        try:
            self.index = read(path)
        except RuntimeError as exc:
            reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else "unreadable"
            reason = reason.replace(str(path), path.name)  # no absolute path reaches a client
            raise IndexCorrupt(f"{named(path)} is corrupt ({reason}); rebuild the index") from None
        if self.index.d != dimension:
            raise IndexCorrupt(
                f"{named(path)} holds {self.index.d}-dimensional vectors, the manifest says "
                f"{dimension}"
            )
        if info.get("type") == "hnsw":
            faiss.downcast_index(self.index).hnsw.efSearch = info.get("ef_search", HNSW_EF_SEARCH)
        elif info.get("type") == "ivf":
            faiss.extract_index_ivf(self.index).nprobe = info.get("nprobe", IVF_NPROBE)
        spath = Path(folder) / SENTENCES_FILE
        try:
            # allow_pickle=False: loading an index never runs code from it.
            self.sentences = np.load(spath, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError) as exc:
            reason = str(exc).replace(str(spath), spath.name)
            raise IndexCorrupt(f"{named(spath)} is corrupt ({reason}); rebuild the index") from None
        if self.sentences.ndim != 2 or self.sentences.shape[1] != dimension:
            raise IndexCorrupt(f"{named(spath)} has shape {self.sentences.shape}, expected (*, "
                               f"{dimension})")

    @property
    def count(self) -> int:
        return int(self.index.ntotal)

    def search(self, query: np.ndarray, k: int, allowed: list[int] | None = None
               ) -> list[tuple[int, float]]:
        """Return (row, cosine) of the `k` nearest passages, best first, among `allowed`."""
        k = min(k, self.count if allowed is None else len(allowed))
        if k <= 0:
            return []
        params = None
        if allowed is not None:
            selector = faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64))
            kind = self.info.get("type")
            if kind == "hnsw":
                params = faiss.SearchParametersHNSW(
                    sel=selector, efSearch=self.info.get("ef_search", HNSW_EF_SEARCH))
            elif kind == "ivf":
                params = faiss.SearchParametersIVF(
                    sel=selector, nprobe=self.info.get("nprobe", IVF_NPROBE))
            else:
                params = faiss.SearchParameters(sel=selector)
        scores, ids = self.index.search(query.reshape(1, -1).astype(np.float32), k,
                                        params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def vectors(self, rows: list[int]) -> np.ndarray:
        """Return the stored unit vectors of the given passage rows, in order."""
        if not rows:
            return np.zeros((0, self.index.d), dtype=np.float32)
        return self.index.reconstruct_batch(np.asarray(rows, dtype=np.int64))

    def all_vectors(self) -> np.ndarray:
        """Return every stored passage vector, in row order."""
        if self.count == 0:
            return np.zeros((0, self.index.d), dtype=np.float32)
        return self.index.reconstruct_n(0, self.count)

    def scores(self, query: np.ndarray, rows: list[int]) -> dict[int, float]:
        """Return the exact cosine of `query` with the given passage rows."""
        if not rows:
            return {}
        return dict(zip(rows, (self.vectors(rows) @ query).tolist()))

    def sentence_scores_at(self, query: np.ndarray, rows: list[int]) -> np.ndarray:
        """Return the cosine of `query` with the given sentence rows."""
        return np.asarray(self.sentences[np.asarray(rows, dtype=np.int64)],
                          dtype=np.float32) @ query
