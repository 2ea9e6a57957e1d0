"""GPU embedding throughput: passages a second of `build --device cuda` on short passages.

Usage:
    python benchmarks/gpu_embed.py [--device cuda] [--passages 200000]
                                   [--backends bf16 torch] [--build-passages 20000]

Passages of about 50 tokens, like the default corpus's, are made from the default
corpus's own sentences (random runs of them, so no two are alike). Each backend's
encoder (the one `qa-service build --device cuda --backend B` uses) embeds them all
in one call, after a warm-up: the figure is passages / seconds of that call, with the
tokenisation inside it. Then, unless --build-passages is 0, a whole `qa-service build`
of a folder of such passages runs in a child process, whose passages a second also
count cleaning, chunking and sentence splitting (in worker processes, one a CPU core)
and storing.

Without a CUDA device the script says so and exits 0; `--device cpu` runs it here as a
smoke test (with small counts).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parent.parent
SUMMARY = re.compile(r"Indexed (\d+) documents, (\d+) passages \((\d+) sentences\) in "
                     r"([\d.]+) s")


def short_passages(count: int, tokens: int, count_tokens, seed: int = 7) -> list[str]:
    """Return `count` texts of about `tokens` tokens, runs of the default corpus's sentences."""
    text = " ".join(p.read_text("utf-8") for p in sorted((REPO / "corpus").glob("*.txt")))
    pool = [s for s in re.split(r"(?<=[.!?])\s+", " ".join(text.split())) if len(s) > 20]
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        start = rng.randrange(len(pool))
        words, parts = 0, []
        while words < tokens:
            sentence = pool[(start + len(parts)) % len(pool)]
            parts.append(sentence)
            words += count_tokens(sentence)
        out.append(" ".join(parts))
    return out


def embed_rate(encoder, texts: list[str]) -> tuple[float, float]:
    """Passages a second of one encode call over `texts`, and the peak GPU memory in MB."""
    import torch

    encoder.encode(texts[:4096])  # warm-up: kernels, allocator, autocast weight casts
    cuda = torch.cuda.is_available() and encoder.device.type == "cuda"
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    encoder.encode(texts)
    if cuda:
        torch.cuda.synchronize()
    seconds = time.perf_counter() - started
    peak = torch.cuda.max_memory_allocated() / 2**20 if cuda else 0.0
    return len(texts) / seconds, peak


def whole_build(texts: list[str], device: str, backend: str) -> str:
    """Build an index of `texts` (one file of 100 passages each) with the CLI; its summary."""
    with tempfile.TemporaryDirectory(prefix="qa-gpu-bench-") as scratch:
        corpus = Path(scratch) / "corpus"
        corpus.mkdir()
        for n in range(0, len(texts), 100):
            (corpus / f"doc{n // 100:05d}.txt").write_text(
                f"Report {n // 100}\n\n" + "\n\n".join(texts[n:n + 100]) + "\n", "utf-8")
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "qa_service", "build", "--corpus", str(corpus),
             "--index-dir", str(Path(scratch) / "index"), "--device", device,
             "--backend", backend], capture_output=True, text=True)
        wall = time.perf_counter() - started
        found = SUMMARY.search(proc.stderr)
        if proc.returncode or not found:
            return f"build failed ({proc.returncode}): {proc.stderr.strip()[-500:]}"
        _, passages, sentences, seconds = found.groups()
        return (f"{passages} passages ({sentences} sentences) in {float(seconds):.1f} s: "
                f"{int(passages) / float(seconds):.0f} passages/s; process {wall:.1f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--passages", type=int, default=200_000)
    parser.add_argument("--tokens", type=int, default=50, help="about this many a passage")
    parser.add_argument("--backends", nargs="+", default=["bf16", "torch"])
    parser.add_argument("--build-passages", type=int, default=20_000,
                        help="passages of the whole-build run (0: skip it)")
    args = parser.parse_args()
    import torch

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print(f"skipping: no CUDA device here (torch {torch.__version__})")
        return 0
    sys.path.insert(0, str(REPO))
    from qa_service.encoders import get_encoder

    name = (torch.cuda.get_device_name(args.device) if args.device.startswith("cuda")
            else "cpu")
    print(f"device {args.device} ({name}), torch {torch.__version__}, "
          f"{os.cpu_count()} CPUs")
    texts = None
    for backend in args.backends:
        encoder = get_encoder("all-MiniLM-L6-v2", args.device, backend)
        if texts is None:
            texts = short_passages(args.passages, args.tokens, encoder.count_tokens)
            mean = sum(encoder.count_tokens(t) for t in texts[:2000]) / min(2000, len(texts))
            print(f"{len(texts)} passages, {mean:.1f} tokens on average")
        rate, peak = embed_rate(encoder, texts)
        print(f"encoder {backend:6s} {rate:10.0f} passages/s  peak GPU memory {peak:.0f} MB",
              flush=True)
        del encoder
    if args.build_passages:
        for backend in args.backends:
            print(f"whole build {backend:6s} "
                  f"{whole_build(texts[:args.build_passages], args.device, backend)}",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
