"""Soak a service: clients asking for minutes; latency and server memory per window.

Usage:
    python benchmarks/soak.py index                  # serve ./index itself, 5 minutes
    python benchmarks/soak.py http://127.0.0.1:8000 --pid 1234
    python benchmarks/soak.py index --minutes 1 --clients 8 --max-requests 50000

TARGET is an index folder (the script runs `qa-service serve` on it, on a free loopback
port, and stops it at the end) or the URL of a running service (give --pid, the gunicorn
master's, to sample its memory). The run ends after --minutes or --max-requests, whichever
comes first. Every request is a fresh question (a counter is appended) so that no cache can
answer it. Prints, per window (a minute by default): requests, errors, p50/p95/p99 latency
and the resident memory of the server (master and workers, from /proc); then a verdict:
RSS flat after the first window (growth within --rss-tolerance) and p99 stable (no later
window above --p99-tolerance times the median of the later windows). Exit status 1 when a
request failed or a verdict is negative.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from http_load import QUESTIONS, Client


class Served:
    """`qa-service serve` on an index folder, on a free loopback port, until stopped."""

    def __init__(self, index_dir: str, workers: int = 1, threads: int = 4,
                 env: dict | None = None):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.log = tempfile.NamedTemporaryFile("w+", prefix="qa-serve-", suffix=".log",
                                               delete=False)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "qa_service", "serve", "--port", str(port),
             "--index-dir", index_dir, "--workers", str(workers), "--threads", str(threads)],
            stdout=self.log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
        self.pid = self.proc.pid
        deadline = time.monotonic() + 300
        while True:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop(keep_log=True)
                sys.exit(f"the server did not start; its log: {self.log.name}")
            try:
                with urllib.request.urlopen(self.url + "/api/health", timeout=5):
                    break
            except OSError:
                time.sleep(0.25)

    def stop(self, keep_log: bool = False) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(60)
        self.log.close()
        if not keep_log:
            os.unlink(self.log.name)


def process_tree(pid: int) -> list[int]:
    """Return `pid` and its descendants (gunicorn's master and workers)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # the process ended meanwhile
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        p = todo.pop()
        tree.append(p)
        todo.extend(children.get(p, []))
    return tree


def rss_mb(pid: int) -> float:
    """Return the resident memory of `pid` and its descendants, in MB (10^6 bytes)."""
    total_kb = 0
    for p in process_tree(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
        except OSError:
            pass
    return round(total_kb * 1024 / 1e6, 1)


def soak(url: str, pid: int | None, clients: int, seconds: float, max_requests: int,
         window: float) -> list[dict]:
    """Load `url` with `clients` threads; return one summary per window."""
    records: list[tuple[float, float, bool]] = []  # (seconds since start, ms, ok)
    lock = threading.Lock()
    counter = iter(range(max_requests))
    warm = Client(url)
    for n in range(10):
        warm.ask(QUESTIONS[n % len(QUESTIONS)] + f" (warm-up {n})")
    warm.close()
    started = time.perf_counter()
    deadline = started + seconds

    def client() -> None:
        conn = Client(url)
        while time.perf_counter() < deadline:
            with lock:
                n = next(counter, None)
            if n is None:
                break
            status, _, elapsed = conn.ask(QUESTIONS[n % len(QUESTIONS)] + f" ({n})")
            with lock:
                records.append((time.perf_counter() - started, elapsed, status == 200))
        conn.close()

    memory = [rss_mb(pid)] if pid else []
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    # Sample the server's memory at each window's end, while the clients run.
    n_windows = int(-(-seconds // window))
    for w in range(1, n_windows + 1):
        while time.perf_counter() < min(started + w * window, deadline):
            if not any(t.is_alive() for t in threads):
                break
            time.sleep(0.2)
        if pid:
            memory.append(rss_mb(pid))
        if not any(t.is_alive() for t in threads):
            break
    for t in threads:
        t.join()
    windows = []
    for w in range(len(memory) - 1 if pid else n_windows):
        inside = [r for r in records if w * window <= r[0] < (w + 1) * window]
        if not inside:
            break
        latencies = sorted(r[1] for r in inside)
        q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
        windows.append({
            "window": w + 1, "requests": len(inside),
            "errors": sum(1 for r in inside if not r[2]),
            "p50_ms": round(statistics.median(latencies), 1), "p95_ms": round(q[94], 1),
            "p99_ms": round(q[98], 1), "rss_mb": memory[w + 1] if pid else None,
        })
    if pid and windows:
        windows[0]["rss_start_mb"] = memory[0]
    return windows


def verdict(windows: list[dict], rss_tolerance: float, p99_tolerance: float) -> list[str]:
    """Judge memory growth and p99 stability after the first window; '' entries pass."""
    later = windows[1:]
    if not later:
        return ["too short to judge: one window only"]
    lines = []
    rss = [w["rss_mb"] for w in windows]
    if rss[0] is not None:
        growth = rss[-1] - rss[0]
        flat = growth <= rss_tolerance * rss[0]
        lines.append(f"RSS {'flat' if flat else 'GROWING'} after window 1: {rss[0]} -> "
                     f"{rss[-1]} MB ({growth:+.1f} MB, {growth / rss[0]:+.1%}; tolerance "
                     f"{rss_tolerance:.0%})")
    p99 = [w["p99_ms"] for w in later]
    median = round(statistics.median(p99), 1)
    stable = max(p99) <= p99_tolerance * median
    lines.append(f"p99 {'stable' if stable else 'UNSTABLE'} after window 1: windows "
                 f"{min(p99)}-{max(p99)} ms, median {median} ms (tolerance "
                 f"{p99_tolerance}x the median)")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", nargs="?", default="index",
                        help="an index folder to serve, or the URL of a running service")
    parser.add_argument("--pid", type=int, help="with a URL: the server's master process")
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--max-requests", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--window", type=float, default=60, help="seconds per window")
    parser.add_argument("--workers", type=int, default=1, help="when serving an index")
    parser.add_argument("--threads", type=int, default=4, help="when serving an index")
    parser.add_argument("--rss-tolerance", type=float, default=0.05)
    parser.add_argument("--p99-tolerance", type=float, default=1.5)
    args = parser.parse_args()
    served = None
    if args.target.startswith(("http://", "https://")):
        url, pid = args.target.rstrip("/"), args.pid
    else:
        if not Path(args.target).is_dir():
            sys.exit(f"no index folder {args.target}: build one or give a URL")
        served = Served(args.target, args.workers, args.threads)
        url, pid = served.url, served.pid
    try:
        print(f"soak: {url}, {args.clients} clients, {args.minutes} min or "
              f"{args.max_requests} requests, windows of {args.window:g} s", flush=True)
        windows = soak(url, pid, args.clients, args.minutes * 60, args.max_requests,
                       args.window)
    finally:
        if served:
            served.stop()
    if not windows:
        sys.exit("no request completed")
    if pid:
        print(f"server RSS before the run: {windows[0]['rss_start_mb']} MB")
    print("window  requests  errors  p50 ms  p95 ms  p99 ms  RSS MB")
    for w in windows:
        print(f"{w['window']:6d}  {w['requests']:8d}  {w['errors']:6d}  {w['p50_ms']:6.1f}  "
              f"{w['p95_ms']:6.1f}  {w['p99_ms']:6.1f}  {w['rss_mb'] or '-':>6}")
    total = sum(w["requests"] for w in windows)
    errors = sum(w["errors"] for w in windows)
    print(f"total: {total} requests, {errors} errors")
    judged = verdict(windows, args.rss_tolerance, args.p99_tolerance)
    for line in judged:
        print("verdict: " + line)
    return 1 if errors or any(("GROWING" in s or "UNSTABLE" in s) for s in judged) else 0


if __name__ == "__main__":
    sys.exit(main())
