"""Vector search as the index grows: build time, memory, latency and recall@10 vs exact.

Usage:
    python benchmarks/growth.py --sizes 10000,100000,1000000 [--texts PATH] [--json OUT]

The passages are synthetic, shaped like real text embeddings: all-MiniLM-L6-v2 vectors
of real texts (SQuAD passages and questions from ../shared/eval/squad-train-sample when
present, else the default corpus' sentences) are the seeds; each synthetic vector lies
between a seed and one of the seed's 10 nearest seeds, plus a little isotropic noise, and
is normalised. The queries are drawn the same way with another random stream, so none
is a base vector. Uniform random vectors would be a worst case that text never gives.

For each size it builds the index the service would choose (`indexing.vector_index.choose`) and
the alternatives in ALTERNATIVES, and prints per index: build seconds, index bytes,
single-query search p50/p95 in milliseconds (one query at a time, as the service asks)
and recall@10 against exact (flat) search. Figures go to docs/scaling.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qa_service.config import Settings  # noqa: E402
from qa_service.indexing import vector_index as vectors  # noqa: E402
from qa_service.store.vectors import read as read_index  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SQUAD = REPO.parent / "shared" / "eval" / "squad-train-sample"
NOISE = 0.02  # per-dimension sigma (--noise): 0.02 is a noise vector of norm ~0.4


def seed_texts(path: Path | None) -> list[str]:
    """Return the real texts whose embeddings seed the synthetic distribution."""
    path = path or (SQUAD if SQUAD.is_dir() else REPO / "corpus")
    texts: list[str] = []
    if path.is_dir() and not any(path.glob("*.jsonl")):
        from qa_service.ingest import ingest_document, read_corpus

        for raw in read_corpus(path):
            for p in ingest_document(raw)[1]:
                texts += [p.text[s:e] for s, e in p.sentences] + [p.text]
        return texts
    files = [path] if path.is_file() else sorted(path.glob("*.jsonl"))
    for file in files:
        with open(file, encoding="utf-8") as fh:
            texts += [json.loads(line)["text"] for line in fh if line.strip()]
    return texts


def seed_vectors(path: Path | None, cache: Path) -> np.ndarray:
    """Embed the seed texts with the real model (cached: embedding takes minutes)."""
    texts = seed_texts(path)
    key = hashlib.sha1("\n".join(texts).encode()).hexdigest()[:12]
    file = cache / f"growth-seeds-{key}.npy"
    if file.exists():
        return np.load(file)
    from qa_service.encoders import get_encoder

    started = time.perf_counter()
    out = get_encoder(Settings().model.name).encode(texts, batch_size=64)
    print(f"embedded {len(texts)} seed texts in {time.perf_counter() - started:.0f} s",
          file=sys.stderr)
    np.save(file, out)
    return out


class Synthetic:
    """Vectors clustered around real embeddings, between a seed and a near neighbour."""

    def __init__(self, seeds: np.ndarray, neighbours: int = 10, noise: float = NOISE):
        self.noise = noise
        self.seeds = seeds.astype(np.float32)
        sims = self.seeds @ self.seeds.T
        np.fill_diagonal(sims, -np.inf)
        self.near = np.argsort(-sims, axis=1)[:, :neighbours]

    def draw(self, n: int, rng: np.random.Generator, chunk: int = 100_000) -> np.ndarray:
        out = np.empty((n, self.seeds.shape[1]), dtype=np.float32)
        for lo in range(0, n, chunk):
            m = min(chunk, n - lo)
            a = rng.integers(len(self.seeds), size=m)
            b = self.near[a, rng.integers(self.near.shape[1], size=m)]
            t = rng.uniform(0.0, 0.5, size=(m, 1)).astype(np.float32)
            x = (1 - t) * self.seeds[a] + t * self.seeds[b]
            x += rng.standard_normal(x.shape, dtype=np.float32) * self.noise
            faiss.normalize_L2(x)
            out[lo:lo + m] = x
        return out


def exact_top(base: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    index = faiss.IndexFlatIP(base.shape[1])
    index.add(base)
    return index.search(queries, k)[1]


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    k = truth.shape[1]
    return float(np.mean([len(set(f[:k]) & set(t)) / k for f, t in zip(found, truth)]))


def alternatives(n: int, limit: int) -> list[tuple[str, dict, list[dict]]]:
    """Return (label, index description, search-time variants) to try at size `n`."""
    chosen = vectors.choose(n, limit)
    tries = [("flat", {"type": "flat", "metric": "inner_product"}, [{}])]
    if n >= 50_000:
        nlist = vectors.ivf_spec(n)["nlist"]
        for lists in (nlist, nlist * 2):
            spec = vectors.ivf_spec(n, nlist=lists)
            tries.append((f"ivf{lists}", spec,
                          [{"nprobe": p} for p in (8, 16, 32, 64, 128) if p <= lists]))
        # HNSW over 1M takes long on 2 cores: only when asked for with --only.
        if n <= 100_000 or "hnsw32" in wanted:
            tries.append(("hnsw32", vectors.hnsw_spec(32, 80),
                          [{"ef_search": e} for e in (32, 64, 128)]))
    if chosen["type"] not in {t[1]["type"] for t in tries}:
        tries.append(("chosen", chosen, [{}]))
    return [(label, spec, variants) for label, spec, variants in tries
            if label in wanted or not wanted]


wanted: set[str] = set()


def time_queries(index: faiss.Index, queries: np.ndarray, k: int) -> tuple[list[float], np.ndarray]:
    found = np.empty((len(queries), k), dtype=np.int64)
    times = []
    for i, q in enumerate(queries):
        started = time.perf_counter()
        found[i] = index.search(q.reshape(1, -1), k)[1][0]
        times.append((time.perf_counter() - started) * 1000)
    return times, found


def apply(index: faiss.Index, spec: dict, variant: dict) -> dict:
    spec = {**spec, **variant}
    if spec["type"] == "hnsw":
        faiss.downcast_index(index).hnsw.efSearch = spec["ef_search"]
    elif spec["type"] == "ivf":
        faiss.extract_index_ivf(index).nprobe = spec["nprobe"]
    return spec


def run(sizes: list[int], n_queries: int, texts: Path | None, cache: Path, limit: int,
        noise: float, k: int = 10) -> list[dict]:
    synth = Synthetic(seed_vectors(texts, cache), noise=noise)
    queries = synth.draw(n_queries, np.random.default_rng(99))
    print(f"{len(synth.seeds)} seeds, noise {noise}", file=sys.stderr)
    rows = []
    for n in sizes:
        base = synth.draw(n, np.random.default_rng(7))
        started = time.perf_counter()
        truth = exact_top(base, queries, k)
        first = np.median(np.sum(queries * base[truth[:, 0]], axis=1))
        tenth = np.median(np.sum(queries * base[truth[:, -1]], axis=1))
        print(f"n={n}: exact top-{k} of {n_queries} queries (batched) in "
              f"{time.perf_counter() - started:.1f} s; median cosine of a query's 1st and "
              f"10th neighbour {first:.3f}, {tenth:.3f}", file=sys.stderr)
        chosen = vectors.choose(n, limit)
        for label, spec, variants in alternatives(n, limit):
            index = vectors.make(base.shape[1], spec)
            started = time.perf_counter()
            vectors.fill(index, base, spec)
            build = time.perf_counter() - started
            with tempfile.TemporaryDirectory(dir=cache) as tmp:
                path = Path(tmp) / "v.faiss"
                vectors.write_faiss(index, path)
                size = path.stat().st_size
                del index
                index = read_index(path)  # searched as the service does: memory-mapped
                for variant in variants:
                    used = apply(index, spec, variant)
                    time_queries(index, queries[:20], k)  # warm the page cache
                    times, found = time_queries(index, queries, k)
                    ms = sorted(times)
                    row = {
                        "n": n, "index": label, "params": {x: y for x, y in used.items()
                                                           if x not in ("metric",)},
                        "chosen": all(used.get(x) == y for x, y in chosen.items()),
                        "build_s": round(build, 1), "bytes": size,
                        "p50_ms": round(statistics.median(ms), 2),
                        "p95_ms": round(ms[int(0.95 * (len(ms) - 1))], 2),
                        "recall@10": round(recall(found, truth), 4),
                        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
                    }
                    rows.append(row)
                    print(json.dumps(row), flush=True)
                del index
        del base
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--texts", type=Path, default=None,
                        help="corpus folder or .jsonl whose texts seed the vectors")
    parser.add_argument("--only", default="", help="comma-separated labels: flat,ivf1024,...")
    parser.add_argument("--noise", type=float, default=NOISE,
                        help="per-dimension noise around the seeds (larger: harder)")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    args = parser.parse_args()
    wanted.update(x for x in args.only.split(",") if x)
    limit = Settings.from_env().build.exact_limit
    print(f"faiss {faiss.__version__}, {os.cpu_count()} cpus, omp threads "
          f"{faiss.omp_get_max_threads()}, exact_limit {limit}", file=sys.stderr)
    rows = run([int(s) for s in args.sizes.split(",")], args.queries, args.texts, args.cache,
               limit, args.noise)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n", "utf-8")


if __name__ == "__main__":
    main()
