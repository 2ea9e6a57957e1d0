"""Passage vectors in FAISS: exact search for small corpora, HNSW above a threshold."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

from qa_service.errors import IndexCorrupt

FILE = "passages.faiss"
SENTENCES_FILE = "sentences.npy"
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 200
HNSW_EF_SEARCH = 128


def new_index(dimension: int, expected: int, exact_limit: int) -> tuple[faiss.Index, dict]:
    """Create an empty index suited to `expected` vectors and describe it."""
    # Inner product equals cosine on unit vectors.
    if expected <= exact_limit:
        return faiss.IndexFlatIP(dimension), {"type": "flat", "metric": "inner_product"}
    index = faiss.IndexHNSWFlat(dimension, HNSW_M, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    return index, {"type": "hnsw", "metric": "inner_product", "M": HNSW_M,
                   "ef_construction": HNSW_EF_CONSTRUCTION, "ef_search": HNSW_EF_SEARCH}


def write(index: faiss.Index, path: Path) -> None:
    faiss.write_index(index, str(path))


class VectorStore:
    """A loaded FAISS index (passages) and the sentence vectors beside it."""

    def __init__(self, folder: Path, info: dict, dimension: int):
        path = Path(folder) / FILE
        self.info = info
        try:
            self.index = faiss.read_index(str(path))
        except RuntimeError as exc:
            reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else "unreadable"
            raise IndexCorrupt(f"{path} is corrupt ({reason}); rebuild the index") from None
        if self.index.d != dimension:
            raise IndexCorrupt(
                f"{path} holds {self.index.d}-dimensional vectors, the manifest says {dimension}"
            )
        if info.get("type") == "hnsw":
            faiss.downcast_index(self.index).hnsw.efSearch = info.get("ef_search", HNSW_EF_SEARCH)
        spath = Path(folder) / SENTENCES_FILE
        try:
            # allow_pickle=False: loading an index never runs code from it.
            self.sentences = np.load(spath, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise IndexCorrupt(f"{spath} is corrupt ({exc}); rebuild the index") from None
        if self.sentences.ndim != 2 or self.sentences.shape[1] != dimension:
            raise IndexCorrupt(f"{spath} has shape {self.sentences.shape}, expected (*, "
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
            if self.info.get("type") == "hnsw":
                params = faiss.SearchParametersHNSW(
                    sel=selector, efSearch=self.info.get("ef_search", HNSW_EF_SEARCH))
            else:
                params = faiss.SearchParameters(sel=selector)
        scores, ids = self.index.search(query.reshape(1, -1).astype(np.float32), k,
                                        params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def vectors(self, rows: list[int]) -> np.ndarray:
        """Return the stored unit vectors of the given passage rows, in order."""
        if not rows:
            return np.zeros((0, self.index.d), dtype=np.float32)
        return np.vstack([self.index.reconstruct(int(r)) for r in rows])

    def scores(self, query: np.ndarray, rows: list[int]) -> dict[int, float]:
        """Return the exact cosine of `query` with the given passage rows."""
        if not rows:
            return {}
        return dict(zip(rows, (self.vectors(rows) @ query).tolist()))

    def sentence_scores_at(self, query: np.ndarray, rows: list[int]) -> np.ndarray:
        """Return the cosine of `query` with the given sentence rows."""
        return np.asarray(self.sentences[np.asarray(rows, dtype=np.int64)],
                          dtype=np.float32) @ query
