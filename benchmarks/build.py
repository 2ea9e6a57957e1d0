"""Time index builds: passages per second and peak memory, per encoder backend.

Usage:
    python benchmarks/build.py [--corpus corpus] [--beir ../shared/eval/squad-train-sample]
                               [--backends torch bf16 onnx int8]

Each build runs as `qa-service build` in a fresh process into a scratch folder.
Passages per second counts the build itself (reading, chunking, storing, embedding the
passages and their sentences, writing the vectors), as the build's summary line reports
it; the process's wall time (with imports and model loading) and its peak resident
memory come beside it. The BEIR folder is skipped when absent (a fresh clone has none).
ONNX exports are made before timing (they are cached on disk once per machine). Then
the encoder alone is timed on the BEIR corpus's first paragraphs (SQuAD-length), in this
process.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
SUMMARY = re.compile(r"Indexed (\d+) documents, (\d+) passages \((\d+) sentences\) in "
                     r"([\d.]+) s")


def build(corpus: Path, backend: str, index_dir: Path) -> dict:
    """Run one build in a child process; return its counts, times and peak memory."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "qa_service", "build", "--corpus", str(corpus),
         "--index-dir", str(index_dir), "--backend", backend],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    found = SUMMARY.search(output)
    if proc.returncode or not found:
        raise SystemExit(f"build failed ({proc.returncode}):\n{output}")
    docs, passages, sentences, seconds = found.groups()
    return {"backend": backend, "documents": int(docs), "passages": int(passages),
            "sentences": int(sentences), "build_s": float(seconds),
            "passages_per_s": round(int(passages) / float(seconds), 1),
            "process_s": round(wall, 1), "peak_rss_mb": round(usage.ru_maxrss / 1024)}


def encode_rate(corpus_jsonl: Path, backend: str, count: int) -> float:
    """Passages per second of the encoder alone on the first `count` paragraphs."""
    import json

    from qa_service.encoders import get_encoder

    with open(corpus_jsonl, encoding="utf-8") as fh:
        texts = [json.loads(line)["text"] for _, line in zip(range(count), fh, strict=False)]
    encoder = get_encoder("all-MiniLM-L6-v2", backend=backend)
    encoder.encode(texts[:8])
    started = time.perf_counter()
    encoder.encode(texts, batch_size=64)
    return round(len(texts) / (time.perf_counter() - started), 1)


def warm(backend: str) -> None:
    """Make the backend's cached ONNX file now, so that no timed build includes it."""
    if backend in ("onnx", "int8"):
        subprocess.run([sys.executable, "-c", "from qa_service.encoders import get_encoder; "
                        f"get_encoder('all-MiniLM-L6-v2', backend={backend!r})"], check=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path("corpus"))
    parser.add_argument("--beir", type=Path, default=Path("../shared/eval/squad-train-sample"),
                        help="a BEIR folder whose corpus.jsonl is built too (if present)")
    parser.add_argument("--backends", nargs="+", default=["torch", "bf16", "onnx", "int8"])
    parser.add_argument("--encode-only", action="store_true", help="skip the builds")
    parser.add_argument("--encode-sample", type=int, default=256,
                        help="paragraphs of the BEIR corpus to time the encoder alone on")
    args = parser.parse_args()
    corpora = [args.corpus]
    if (args.beir / "corpus.jsonl").is_file():
        corpora.append(args.beir / "corpus.jsonl")
    else:
        print(f"skipping {args.beir}: no corpus.jsonl there", file=sys.stderr)
    for backend in args.backends:
        warm(backend)
    print(f"cpus {os.cpu_count()}; passages/s = passages / build seconds (with sentences)")
    with tempfile.TemporaryDirectory(prefix="qa-build-bench-") as scratch:
        for corpus in [] if args.encode_only else corpora:
            for backend in args.backends:
                r = build(corpus, backend, Path(scratch) / f"{corpus.stem}-{backend}")
                print(f"{str(corpus):45s} {backend:6s} {r['passages']:6d} passages "
                      f"{r['sentences']:6d} sentences  build {r['build_s']:7.1f} s  "
                      f"{r['passages_per_s']:6.1f} passages/s  process {r['process_s']:6.1f} s"
                      f"  peak RSS {r['peak_rss_mb']} MB", flush=True)
    # Last: a child's peak RSS counts this process's memory at the fork, so keep it small
    # until the builds are done.
    if len(corpora) > 1 and args.encode_sample:
        for backend in args.backends:
            rate = encode_rate(corpora[1], backend, args.encode_sample)
            print(f"encoder alone, {args.encode_sample} paragraphs of {corpora[1]}, "
                  "batch_size 64 (onnx: at most 8; int8: one text a call; torch, bf16: "
                  "up to 2,048 tokens a batch): "
                  f"{backend:6s} {rate} passages/s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
