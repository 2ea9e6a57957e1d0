"""Passage vectors in FAISS: exact search for small corpora, an approximate index above.

The choice rule and its parameters come from `benchmarks/growth.py` (figures in
docs/scaling.md): flat (exact) up to `exact_limit` passages, IVF-Flat above it. Every
index is read memory-mapped, so several server processes share one copy of the vectors
through the page cache instead of holding one each.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import faiss
import numpy as np

from qa_service.errors import IndexCorrupt

log = logging.getLogger(__name__)

FILE = "passages.faiss"
SENTENCES_FILE = "sentences.npy"
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 200
HNSW_EF_SEARCH = 128
# IVF: about 2 * sqrt(n) lists, each probed list scanned exactly. Measured at 1M on 2
# cores: 2048 lists build 4-7x faster than 4096 (k-means) and search within 0.5 ms of
# them; nprobe 32 keeps recall@10 >= 0.99 against exact (benchmarks/growth.py).
IVF_NPROBE = 32
IVF_TRAIN_PER_LIST = 64  # k-means sample: 64 points a list is plenty, and bounds its time
# Memory-map the vectors (flat codes, HNSW storage, IVF lists) read-only: processes share
# the pages. (IO_FLAG_MMAP is the older on-disk-lists hook and refuses a mapped reader.)
READ_FLAGS = faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY


def choose(expected: int, exact_limit: int) -> dict:
    """Return the description of the index the service uses for `expected` vectors."""
    # Inner product equals cosine on unit vectors.
    if expected <= exact_limit:
        return {"type": "flat", "metric": "inner_product"}
    return ivf_spec(expected)


def ivf_spec(expected: int, nprobe: int = IVF_NPROBE, nlist: int | None = None) -> dict:
    """Describe an IVF-Flat index for `expected` vectors (nlist about 2 * sqrt(n))."""
    if nlist is None:
        nlist = 2 ** round(math.log2(max(1.0, 2 * math.sqrt(expected))))
    # k-means wants about 39 points a list or more; tiny indexes get fewer lists.
    nlist = max(1, min(nlist, expected // 39))
    return {"type": "ivf", "metric": "inner_product", "nlist": nlist,
            "nprobe": min(nprobe, nlist)}


def hnsw_spec(m: int = HNSW_M, ef_construction: int = HNSW_EF_CONSTRUCTION,
              ef_search: int = HNSW_EF_SEARCH) -> dict:
    """Describe an HNSW index (kept for comparison and for indexes built before IVF)."""
    return {"type": "hnsw", "metric": "inner_product", "M": m,
            "ef_construction": ef_construction, "ef_search": ef_search}


def make(dimension: int, info: dict, trained: faiss.Index | None = None) -> faiss.Index:
    """Create the empty index that `info` describes.

    With `trained` (an IVF index of the same description) its coarse centroids are
    reused, so an incremental build skips k-means (minutes at 1M passages).
    """
    kind = info["type"]
    if kind == "flat":
        return faiss.IndexFlatIP(dimension)
    if kind == "hnsw":
        index = faiss.IndexHNSWFlat(dimension, info["M"], faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = info["ef_construction"]
        return index
    if kind == "ivf":
        quantizer = faiss.IndexFlatIP(dimension)
        if trained is not None:
            old = faiss.extract_index_ivf(trained).quantizer
            quantizer.add(old.reconstruct_n(0, old.ntotal))
        index = faiss.IndexIVFFlat(quantizer, dimension, info["nlist"],
                                   faiss.METRIC_INNER_PRODUCT)
        index.is_trained = trained is not None
        index.own_fields = True
        quantizer.this.disown()  # the IVF index owns (and frees) its quantizer
        return index
    raise ValueError(f"unknown vector index type {kind!r}")


def fill(index: faiss.Index, embedded: np.ndarray, info: dict, seed: int = 1234) -> None:
    """Train `index` if it needs it (on a sample), then add the vectors in row order."""
    if not index.is_trained:
        sample = embedded
        cap = IVF_TRAIN_PER_LIST * info.get("nlist", 1)
        if len(embedded) > cap:
            rows = np.sort(np.random.default_rng(seed).choice(len(embedded), cap, replace=False))
            sample = embedded[rows]
        index.train(np.ascontiguousarray(sample, dtype=np.float32))
    index.add(np.ascontiguousarray(embedded, dtype=np.float32))
    if info["type"] == "ivf":
        # Lets reconstruct(row) find a vector without scanning every list.
        index.make_direct_map()


def new_index(dimension: int, expected: int, exact_limit: int,
              previous: VectorStore | None = None) -> tuple[faiss.Index, dict]:
    """Create an empty index suited to `expected` vectors and describe it.

    An IVF index of the same shape as `previous` reuses its trained centroids.
    """
    info = choose(expected, exact_limit)
    trained = None
    if previous is not None and info["type"] == "ivf" and previous.info == info:
        trained = previous.index
    return make(dimension, info, trained), info


def write(index: faiss.Index, path: Path) -> None:
    faiss.write_index(index, str(path))


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
            raise IndexCorrupt(f"{path} is corrupt ({reason}); rebuild the index") from None
        if self.index.d != dimension:
            raise IndexCorrupt(
                f"{path} holds {self.index.d}-dimensional vectors, the manifest says {dimension}"
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
