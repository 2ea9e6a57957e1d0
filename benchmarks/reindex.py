"""Rebuild the index under load and count failed requests and the time to switch.

Usage:
    python benchmarks/reindex.py index --rebuilds 3 --signal hup
    python benchmarks/reindex.py index --rebuilds 3 --signal none   # the server's own check

Serves the index folder (`qa-service serve`, on a free loopback port), loads it with
--clients threads asking fresh questions, and --rebuilds times runs `qa-service build` on
--corpus, then sends the server SIGHUP (or nothing: the server notices the new `current`
itself). Meanwhile /api/health is polled every 0.1 s. Prints the requests, the failed ones
(no response or a status other than 200), the versions that answered, and per rebuild the
build time, how long after it the server answered from the new version, and the slowest
request sent between the build's end and 1 s after the switch.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request

from http_load import QUESTIONS, Client
from soak import Served


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("index", nargs="?", default="index")
    parser.add_argument("--corpus", default="corpus")
    parser.add_argument("--rebuilds", type=int, default=3)
    parser.add_argument("--signal", choices=["hup", "none"], default="hup")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--settle", type=float, default=10, help="seconds after each build")
    args = parser.parse_args()

    served = Served(args.index, args.workers, args.threads)
    stop = threading.Event()
    lock = threading.Lock()
    answers: list[tuple[float, int, float, str | None]] = []  # (sent at, status, ms, index)
    health: list[tuple[float, str]] = []

    def client(k: int) -> None:
        conn, n = Client(served.url), 0
        while not stop.is_set():
            n += 1
            sent = time.monotonic()
            status, data, ms = conn.ask(f"{QUESTIONS[(k + n) % len(QUESTIONS)]} ({k}-{n})")
            version = json.loads(data).get("index") if status == 200 else None
            with lock:
                answers.append((sent, status, ms, version))
        conn.close()

    def poll_health() -> None:
        while not stop.is_set():
            try:
                with urllib.request.urlopen(served.url + "/api/health", timeout=30) as r:
                    health.append((time.monotonic(), json.load(r)["index"]["version"]))
            except OSError:
                health.append((time.monotonic(), "error"))
            time.sleep(0.1)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(args.clients)]
    threads.append(threading.Thread(target=poll_health))
    rebuilds = []
    try:
        for t in threads:
            t.start()
        time.sleep(args.settle)
        for _ in range(args.rebuilds):
            started = time.monotonic()
            done = subprocess.run(
                [sys.executable, "-m", "qa_service", "build", "--corpus", args.corpus,
                 "--index-dir", args.index], capture_output=True, text=True)
            if done.returncode:
                sys.exit(f"the build failed: {done.stderr.strip()}")
            built = time.monotonic()
            version = os.path.basename(os.path.realpath(os.path.join(args.index, "current")))
            if args.signal == "hup":
                os.kill(served.pid, signal.SIGHUP)
            time.sleep(args.settle)
            rebuilds.append((started, built, version))
    finally:
        stop.set()
        for t in threads:
            t.join()
        served.stop()

    failed = [a for a in answers if a[1] != 200]
    print(f"reindex: {args.rebuilds} rebuilds, signal {args.signal}, {args.clients} clients, "
          f"{args.workers} worker(s) x {args.threads} threads")
    print(f"requests: {len(answers)}, failed: {len(failed)} "
          f"(statuses {sorted({a[1] for a in failed})}), health errors: "
          f"{sum(1 for h in health if h[1] == 'error')}")
    versions: dict[str | None, int] = {}
    for a in answers:
        if a[1] == 200:
            versions[a[3]] = versions.get(a[3], 0) + 1
    print(f"answers per index version: {versions}")
    for started, built, version in rebuilds:
        switched = next((t for t, v in health if t >= built and v == version), None)
        until = (switched or built + args.settle) + 1
        around = [a[2] for a in answers if built <= a[0] < until]
        before = [a[2] for a in answers if started - 5 <= a[0] < started]
        print(f"build {built - started:.1f} s -> {version}: served "
              + (f"{switched - built:.2f} s after the build" if switched else "NEVER")
              + f"; slowest request sent from then to 1 s after the switch: "
              f"{max(around, default=0):.0f} ms (in the 5 s before the build: "
              f"{max(before, default=0):.0f} ms)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
