"""Which FAISS index a build writes, and filling it: exact for small corpora, IVF above.

The choice rule and its parameters come from `benchmarks/growth.py` (figures in
docs/scaling.md): flat (exact) up to `exact_limit` passages, IVF-Flat above it.
"""

from __future__ import annotations

import math
from pathlib import Path

import faiss
import numpy as np

from qa_service.store.vectors import HNSW_EF_SEARCH, IVF_NPROBE, VectorStore

HNSW_M = 32
HNSW_EF_CONSTRUCTION = 200
# IVF: about 2 * sqrt(n) lists, each probed list scanned exactly. Measured at 1M on 2
# cores: 2048 lists build 4-7x faster than 4096 (k-means) and search within 0.5 ms of
# them (benchmarks/growth.py).
IVF_TRAIN_PER_LIST = 64  # k-means sample: 64 points a list is plenty, and bounds its time


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


def write_faiss(index: faiss.Index, path: Path) -> None:
    """Write a FAISS index to `path`."""
    faiss.write_index(index, str(path))
