"""Issue 26's figures against a real server: idle connections, random requests, wrong keys.

Usage:
    python benchmarks/connections.py idle [--idle 5000] [--seconds 60] [--cap N]
                                          [--worker gevent]
    python benchmarks/connections.py full [--slow 1000] [--new 50]
    python benchmarks/connections.py sigterm [--workers 1]
    python benchmarks/connections.py metrics [--requests 10000]
    python benchmarks/connections.py keys [--wrong 100]

Each starts `qa-service serve` (the real model) on a copy-free index of the default
corpus (built first if missing, in a temporary folder), from one address (127.0.0.1)
playing the hostile client and another (127.0.0.2, or 127.0.0.9) the ordinary one.

- idle: IDLE connections held open by one address for SECONDS while the other asks
  /api/health and /api/ask in turn: latency p50 and max, errors. `--worker gevent`
  serves the same app with gunicorn's gevent worker instead of `qa-service serve`'s
  (pip install gevent; for the comparison in docs/operations.md). `--cap N` sets
  QA_CLIENT_CONNECTIONS (0: no cap, as behind a proxy); the hog's connections refused
  with 429 are counted.
- full: SLOW half-sent requests from 20 addresses (none over its share, so none is
  refused to make room) fill the worker; then NEW connections from another address ask
  /api/health one after another: how each is answered and how fast.
- sigterm: 40 whole POSTs on their own connections, SIGTERM 30 ms later: how many are
  answered; then, on a new server, 32 keep-alive clients posting back to back and
  SIGTERM after 1 s: requests sent whole before the signal that were not answered, and
  whether each client's last answer said `Connection: close`.
- metrics: REQUESTS with random methods and paths, half with a wrong key, on a server
  with keys: the number of series /metrics has after each thousand.
- keys: WRONG requests with wrong keys in a minute from one address: where 429 starts,
  Retry-After; the right key from another address meanwhile.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import resource
import select
import shutil
import socket
import statistics
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
KEY = "bench-read-key"
OTHER = "127.0.0.2"
STARTED: list[subprocess.Popen] = []  # stopped when the benchmark ends, however it ends


def start(env: dict, work: Path, worker: str = "",
          extra: tuple = ()) -> tuple[subprocess.Popen, int]:
    index = work / "index"
    if not index.exists():
        subprocess.run([sys.executable, "-m", "qa_service", "build", "--corpus",
                        str(REPO / "corpus"), "--index-dir", str(index)], check=True,
                       capture_output=True)
    with socket.socket() as s:
        s.bind(("0.0.0.0", 0))  # free on every address: the server listens on 0.0.0.0
        port = s.getsockname()[1]
    command = [sys.executable, "-m", "qa_service", "serve", "--host", "0.0.0.0",
               "--port", str(port), "--index-dir", str(index), *extra]
    if worker:  # the same app under another of gunicorn's worker classes
        command = [sys.executable, "-m", "gunicorn", "-k", worker, "--worker-connections",
                   "10000", "-b", f"0.0.0.0:{port}", "qa_service.http:create_app()"]
        env = {**env, "QA_INDEX_DIR": str(index)}
    proc = subprocess.Popen(command, stdout=open(work / "serve.log", "w"),
                            stderr=subprocess.STDOUT,
                            env={**os.environ, "HF_HUB_OFFLINE": "1", **env})
    STARTED.append(proc)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if call(port, "GET", "/api/health", source=OTHER)[0] == 200:
                return proc, port
        except OSError:
            time.sleep(0.3)
    raise SystemExit("the server did not start:\n" + (work / "serve.log").read_text()[-2000:])


def call(port: int, method: str, path: str, body: bytes | None = None, key: str | None = None,
         source: str = "127.0.0.1", timeout: float = 15) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout,
                                      source_address=(source, 0))
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    try:
        conn.request(method, path, body, headers)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def allow_sockets(count: int) -> None:
    """Let this process (and the server it starts) open `count` sockets and more."""
    wanted = count + 1000
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, max(wanted, hard)))


def refused(socks: list[socket.socket]) -> int:
    """Count the sockets the server answered (a refusal) or closed."""
    poller = select.poll()  # select() takes no descriptor past 1,023
    for sock in socks:
        poller.register(sock, select.POLLIN | select.POLLHUP)
    return len(poller.poll(0))


def idle(args, work: Path) -> dict:
    allow_sockets(args.idle)
    env = {} if args.cap is None else {"QA_CLIENT_CONNECTIONS": str(args.cap)}
    proc, port = start(env, work, args.worker)
    held = []
    for _ in range(args.idle):
        sock = socket.socket()
        sock.setblocking(False)
        sock.connect_ex(("127.0.0.1", port))
        held.append(sock)
    time.sleep(2)
    hog_refused = refused(held)
    times = {"health": [], "ask": []}
    errors = 0
    end = time.monotonic() + args.seconds
    n = 0
    while time.monotonic() < end:
        kind = "health" if n % 2 == 0 else "ask"
        body = json.dumps({"question": f"How many people died in Aktobe? ({n})"}).encode()
        started = time.monotonic()
        try:
            status = call(port, "POST" if kind == "ask" else "GET",
                          "/api/ask" if kind == "ask" else "/api/health",
                          body if kind == "ask" else None, source=OTHER)[0]
            errors += status != 200
        except OSError:
            errors += 1
        times[kind].append(time.monotonic() - started)
        n += 1
        time.sleep(0.1)
    for sock in held:
        sock.close()
    proc.terminate()
    proc.wait(30)
    return {"worker": args.worker or "qa-service serve", "idle_connections": args.idle,
            "client_connections": "default" if args.cap is None else args.cap,
            "hog_answered_or_closed_after_2s": hog_refused,
            "seconds": args.seconds, "errors": errors,
            **{f"{k}_ms": {"n": len(v), "p50": round(statistics.median(v) * 1000, 1),
                           "max": round(max(v) * 1000, 1)} for k, v in times.items()}}


def full(args, work: Path) -> dict:
    allow_sockets(args.slow)
    proc, port = start({}, work)
    slow = []
    for n in range(args.slow):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10,
                                        source_address=(f"127.0.1.{n % 20 + 1}", 0))
        sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: t\r\n")  # and never the rest
        slow.append(sock)
    time.sleep(1.5)
    answers, times = [], []
    for _ in range(args.new):
        started = time.monotonic()
        try:
            answers.append(str(call(port, "GET", "/api/health", source=OTHER,
                                    timeout=60)[0]))
        except OSError as exc:
            answers.append(type(exc).__name__)
        times.append(time.monotonic() - started)
    for sock in slow:
        sock.close()
    proc.terminate()
    proc.wait(30)
    return {"half_sent_requests": args.slow, "new_connections": args.new,
            "answers": {a: answers.count(a) for a in sorted(set(answers))},
            "ms": {"p50": round(statistics.median(times) * 1000, 1),
                   "max": round(max(times) * 1000, 1)}}


def _post_request() -> bytes:
    body = json.dumps({"question": "How many people died in Aktobe?"}).encode()
    return (b"POST /api/ask HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body)) + body


def _answers_after_term(port: int, proc: subprocess.Popen) -> dict:
    clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(40)]
    for client in clients:
        client.sendall(_post_request())
    time.sleep(0.03)
    proc.terminate()
    got = []
    for client in clients:
        client.settimeout(30)
        received = b""
        try:
            while chunk := client.recv(65536):
                received += chunk
        except OSError as exc:
            received = type(exc).__name__.encode()
        client.close()
        got.append(received.split(b"\r\n", 1)[0].decode("latin-1"))
    return {"sent": 40, "answers": {a: got.count(a) for a in sorted(set(got))},
            "exit": proc.wait(60)}


def _keepalive_clients_at_term(port: int, proc: subprocess.Popen) -> dict:
    import threading

    signalled = threading.Event()
    lost, answered, closing = [], [0], [0]

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        body = json.dumps({"question": "How many people died in Aktobe?"})
        last = None
        while True:
            before = signalled.is_set()
            try:
                conn.request("POST", "/api/ask", body, {"Content-Type": "application/json"})
                response = conn.getresponse()
                response.read()
                answered[0] += 1
                last = response.getheader("Connection")
                if last == "close":
                    break
            except OSError as exc:
                if not before:  # sent whole before the signal, and lost
                    lost.append(type(exc).__name__)
                break
        closing[0] += last == "close"
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(32)]
    for thread in threads:
        thread.start()
    time.sleep(1)
    signalled.set()
    proc.terminate()
    for thread in threads:
        thread.join(60)
    return {"clients": 32, "answered": answered[0], "lost_sent_before_the_signal": len(lost),
            "last_answer_connection_close": closing[0], "exit": proc.wait(60)}


def sigterm(args, work: Path) -> dict:
    extra = ("--workers", str(args.workers))
    proc, port = start({}, work, extra=extra)
    queued = _answers_after_term(port, proc)
    proc, port = start({}, work, extra=extra)
    return {"workers": args.workers, "queued_posts": queued,
            "keepalive": _keepalive_clients_at_term(port, proc)}


def metrics(args, work: Path) -> dict:
    proc, port = start({"QA_API_KEYS": KEY, "QA_AUTH_FAILURE_LIMIT": "off"}, work)
    rng = random.Random(0)
    series = []

    def count() -> int:
        text = call(port, "GET", "/metrics", key=KEY, source=OTHER)[2].decode()
        return sum(1 for line in text.splitlines() if line and not line.startswith("#"))

    series.append((0, count()))
    for n in range(1, args.requests + 1):
        method = rng.choice(["GET", "POST", "PUT", "DELETE", "PATCH", "BREW", "X" * 8,
                             "".join(rng.choices(string.ascii_uppercase, k=6))])
        path = "/" + "/".join("".join(rng.choices(string.ascii_lowercase, k=5))
                              for _ in range(rng.randint(1, 4)))
        if rng.random() < 0.3:
            path = rng.choice(["/api/ask", "/api/documents", "/api/jobs/x", "/metrics"])
        try:
            call(port, method, path, b"{}" if method == "POST" else None,
                 key=KEY if rng.random() < 0.5 else "wrong")
        except OSError:
            pass
        if n % 1000 == 0:
            series.append((n, count()))
    proc.terminate()
    proc.wait(30)
    return {"requests": args.requests, "series_after_each_thousand": series}


def keys(args, work: Path) -> dict:
    proc, port = start({"QA_API_KEYS": KEY}, work)
    body = json.dumps({"question": "How many people died in Aktobe?"}).encode()
    guesses = []
    for i in range(args.wrong):
        status, headers, _ = call(port, "POST", "/api/ask", body, key=f"guess-{i}")
        guesses.append((status, headers.get("Retry-After")))
    right_guesser = call(port, "POST", "/api/ask", body, key=KEY)[0]
    other = [call(port, "POST", "/api/ask", body, key=KEY, source="127.0.0.9")[0]
             for _ in range(20)]
    proc.terminate()
    proc.wait(30)
    statuses = [s for s, _ in guesses]
    return {"wrong_keys": args.wrong,
            "statuses": {str(s): statuses.count(s) for s in sorted(set(statuses))},
            "first_429_at": statuses.index(429) + 1 if 429 in statuses else None,
            "retry_after": guesses[-1][1], "right_key_from_the_guesser": right_guesser,
            "right_key_from_another_address": {str(s): other.count(s) for s in set(other)}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("idle")
    p.add_argument("--idle", type=int, default=5000)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--worker", default="", help="a gunicorn worker class, e.g. gevent")
    p.add_argument("--cap", type=int, default=None,
                   help="QA_CLIENT_CONNECTIONS (default: the server's; 0: no cap)")
    p = sub.add_parser("full")
    p.add_argument("--slow", type=int, default=1000)
    p.add_argument("--new", type=int, default=50)
    p = sub.add_parser("sigterm")
    p.add_argument("--workers", type=int, default=1)
    p = sub.add_parser("metrics")
    p.add_argument("--requests", type=int, default=10_000)
    p = sub.add_parser("keys")
    p.add_argument("--wrong", type=int, default=100)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="qa-connections-"))
    try:
        result = {"idle": idle, "full": full, "sigterm": sigterm, "metrics": metrics,
                  "keys": keys}[args.command](args, work)
    finally:
        for proc in STARTED:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(60)
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
