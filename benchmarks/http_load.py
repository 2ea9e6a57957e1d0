"""Load a running service's /api/ask and print latency percentiles and throughput.

Usage:
    python benchmarks/http_load.py --url http://127.0.0.1:8000 --clients 8 --requests 400

Each client sends questions in turn from a fixed list (or --questions FILE, one a line);
every request is a fresh question text (a counter is appended) so that no cache can
answer it. Prints p50/p95/p99 latency, requests per second and errors.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import threading
import time
from urllib.parse import urlsplit

QUESTIONS = [
    "When did the attack on the Pallas gun store start?",
    "How many people were injured in Aktobe?",
    "Who is Marat Shibutov?",
    "How long will the nationwide yellow alert last?",
    "What did the Kremlin spokesman say?",
    "How far is Aqtobe from the Russian border?",
    "What happened in Almaty on July 18?",
    "Which security levels exist in Kazakhstan?",
]


class Client:
    """One keep-alive connection to the service; reconnects after a failure."""

    def __init__(self, url: str, timeout: float = 60):
        parts = urlsplit(url)
        self.host, self.port, self.timeout = parts.hostname, parts.port or 80, timeout
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def ask(self, question: str) -> tuple[int, bytes, float]:
        """Send one question; return the status (0: no response), the body, milliseconds."""
        body = json.dumps({"question": question})
        started = time.perf_counter()
        try:
            self.conn.request("POST", "/api/ask", body, {"Content-Type": "application/json"})
            response = self.conn.getresponse()
            status, data = response.status, response.read()
        except OSError:  # http.client's RemoteDisconnected is one too
            status, data = 0, b""
            self.close()
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return status, data, (time.perf_counter() - started) * 1000

    def close(self) -> None:
        self.conn.close()


def run(url: str, clients: int, total: int, questions: list[str], fresh: bool) -> dict:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    counter = iter(range(total))

    def client() -> None:
        nonlocal errors
        conn = Client(url)
        while True:
            with lock:
                n = next(counter, None)
            if n is None:
                break
            question = questions[n % len(questions)] + (f" ({n})" if fresh else "")
            status, _, elapsed = conn.ask(question)
            with lock:
                latencies.append(elapsed)
                errors += status != 200
        conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    q = statistics.quantiles(latencies, n=100)
    return {"clients": clients, "requests": len(latencies), "errors": errors,
            "p50_ms": round(statistics.median(latencies), 1), "p95_ms": round(q[94], 1),
            "p99_ms": round(q[98], 1), "rps": round(len(latencies) / wall, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--questions", help="a file of questions, one a line")
    parser.add_argument("--repeat", action="store_true",
                        help="send the questions verbatim (lets a cache answer)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    questions = QUESTIONS
    if args.questions:
        with open(args.questions, encoding="utf-8") as fh:
            questions = [line.strip() for line in fh if line.strip()]
    run(args.url, 1, min(10, args.requests), questions, not args.repeat)  # warm-up
    for clients in args.clients:
        result = run(args.url, clients, args.requests, questions, not args.repeat)
        print(json.dumps(result) if args.json else
              f"{clients:2d} clients: {result['requests']} requests, {result['errors']} errors, "
              f"p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms, "
              f"p99 {result['p99_ms']} ms, {result['rps']} req/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
