"""What guarding memory-mapped index files against truncation costs, against the other way.

Usage:
    python benchmarks/index_checks.py [--passages 50000] [--dim 384] [--requests 300]

A read past the end of a truncated memory-mapped file kills the process (SIGBUS). The
service keeps the vectors mapped (shared by every worker through the page cache) and
checks the files' sizes before each request (`Index.check`: one fstat a file). The other
way, reading the vectors into each worker's memory, survives any truncation but holds a
copy per worker. In one run, on the same machine:

1. `Index.check()` alone, in microseconds a call (fixture corpus, fake model);
2. POST /api/ask through the Flask test client, p50 and p95, with and without the check,
   rounds alternated so that both see the same load;
3. a synthetic index of --passages vectors (4 sentences each): the process's private
   (RssAnon) and file-backed (RssFile) memory after loading and searching it, mapped as
   the service does, and read into memory.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def check_cost(index_dir: Path, calls: int = 20000) -> float:
    from qa_service.store import Index

    index = Index.load(index_dir)
    started = time.perf_counter()
    for _ in range(calls):
        index.check()
    index.close()
    return (time.perf_counter() - started) / calls * 1e6


def ask_latency(index_dir: Path, requests: int) -> dict:
    from qa_service.http import create_app
    from qa_service.store import Index

    client = create_app({"index_dir": index_dir, "model": "hash:256"}).test_client()
    checked = Index.check
    times: dict[str, list[float]] = {"checked": [], "unchecked": []}
    for round_ in range(6):
        mode = "checked" if round_ % 2 == 0 else "unchecked"
        Index.check = checked if mode == "checked" else (lambda self: None)
        for i in range(requests // 3):
            started = time.perf_counter()
            response = client.post("/api/ask", json={"question": f"bridge flood {round_} {i}"})
            times[mode].append((time.perf_counter() - started) * 1e3)
            assert response.status_code == 200
    Index.check = checked
    return {mode: {"p50_ms": round(statistics.median(t), 3),
                   "p95_ms": round(statistics.quantiles(t, n=20)[18], 3)}
            for mode, t in times.items()}


MEMORY = r"""
import json, sys
import faiss, numpy as np
folder, mapped = sys.argv[1], sys.argv[2] == "mapped"
flags = faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY if mapped else 0
index = faiss.read_index(folder + "/passages.faiss", flags)
sentences = np.load(folder + "/sentences.npy", mmap_mode="r" if mapped else None)
q = np.ones((1, index.d), dtype=np.float32)
index.search(q, 10)  # touches every passage vector
float(np.asarray(sentences[::4], dtype=np.float32).sum())  # and a quarter of the sentences
status = dict(l.split(":", 1) for l in open("/proc/self/status"))
print(json.dumps({k: int(status[k].split()[0]) // 1024 for k in ("RssAnon", "RssFile")}))
"""


def memory(passages: int, dim: int) -> dict:
    import faiss
    import numpy as np

    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as folder:
        index = faiss.IndexFlatIP(dim)
        index.add(rng.standard_normal((passages, dim), dtype=np.float32))
        faiss.write_index(index, f"{folder}/passages.faiss")
        np.save(f"{folder}/sentences.npy",
                rng.standard_normal((4 * passages, dim), dtype=np.float32))
        sizes = {name: os.path.getsize(f"{folder}/{name}") // 2**20
                 for name in ("passages.faiss", "sentences.npy")}
        found = {mode: json.loads(subprocess.run(
            [sys.executable, "-c", MEMORY, folder, mode], capture_output=True, text=True,
            check=True).stdout) for mode in ("mapped", "in_memory")}
    return {"file_mib": sizes, "rss_mib": found}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=50000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    from tests.conftest import fake_index

    with tempfile.TemporaryDirectory() as tmp:
        settings = fake_index(Path(tmp))
        print(json.dumps({"check_us_per_call": round(check_cost(settings.index_dir), 2)}))
        print(json.dumps({"ask": ask_latency(settings.index_dir, args.requests)}))
    print(json.dumps({"memory": memory(args.passages, args.dim)}))


if __name__ == "__main__":
    main()
