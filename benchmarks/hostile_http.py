"""Hostile requests against a real `qa-service serve`: no answer may be a 5xx or not JSON.

Usage:
    python benchmarks/hostile_http.py [--url http://127.0.0.1:8000] [--key KEY]

Without --url it builds the shipped corpus with the real model in a temporary folder and
serves it. Sends questions, histories, filters, listing parameters and raw HTTP that
users and attackers send (markup, bidi controls, lone surrogates, NUL, huge and foreign
digits, deep JSON, wrong types, SQL, path tricks), then prints how many of each status
came back and every request that got a 5xx, a non-JSON error or no answer at all.
"""

from __future__ import annotations

import argparse
import http.client
import json
import shutil
import socket
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from urllib.parse import quote, urlsplit

sys.path.insert(0, str(Path(__file__).parent))
from connections import start  # noqa: E402

TEXTS = [
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "\u202eevil\u202c txt",
    "\ud800 lone surrogate", "nul\x00byte", "x" * 5000, "  ", "\ufeff\u200b", "🙂" * 300,
    "' OR 1=1 --", "Robert'); DROP TABLE passages;--", "../../etc/passwd",
    "How many people died in Aktobe? " * 40, "9" * 400 + " people died?",
    "١٢٣ killed in Aktobe?", "June 31, 2016 attack", "%s%s%s%n", "{{7*7}}", "${jndi:x}",
    "\r\nSet-Cookie: a=b", "How many died?\u0000\u0001\u0002", "Ακτόμπε Актобе 阿克托别",
]

BODIES: list[object] = [
    *({"question": t} for t in TEXTS),
    *({"question": "How many were injured?", "history": [t]} for t in TEXTS),
    {"question": "Aktobe", "history": ["a"] * 50}, {"question": "Aktobe", "history": "nope"},
    {"question": "Aktobe", "history": [1, None, {}]}, {"question": None}, {"question": 5},
    {"question": ["a"]}, {}, [], "question", 7, None,
    *({"question": "Aktobe", "top_k": v} for v in (0, -1, 21, 1e308, "5", True, None, 2**70)),
]
BODIES += [
    {"question": "Aktobe", "filters": f} for f in (
        {"sources": ["RT"] * 60}, {"sources": "RT"}, {"sources": [None]},
        {"date_from": "2016-13-45"}, {"date_from": "9" * 40}, {"date_to": "2016-06-31"},
        {"where": {"source": "RT' OR '1'='1"}}, {"where": {"x": [[[[]]]]}},
        {"where": {"a" * 5000: "b"}}, {"where": {"source": ["RT", 1, None]}}, {"bogus": 1},
        [], "x")
]
BODIES += [{"question": "Aktobe", "collection": c} for c in ("nope", "../x", "", 1, "\x00")]
BODIES += [{"question": "Aktobe", "unknown": 1}, {"question": "Aktobe", "top_k": 3,
                                                   "explain": "yes"}]

GETS = [
    "/api/documents?offset=9223372036854775808", "/api/documents?limit=%D9%A1%D9%A0",
    "/api/documents?limit=%EF%BC%95", "/api/documents?limit=-1", "/api/documents?limit=1e9",
    "/api/documents?source=%00", "/api/documents?date_from=2016-02-30",
    "/api/documents?facets=maybe", "/api/documents?where=" + quote("a=b' OR 1=1"),
    "/api/documents/..%2f..%2fetc%2fpasswd", "/api/documents/%00", "/api/documents/" +
    "a" * 3000, "/api/jobs/1%20OR%201=1", "/api/jobs/" + "9" * 50, "/api/health?collection=x",
    "/api/ready?collection=%2e%2e", "/documents/%3Cscript%3E", "/?q=%3Cscript%3Ealert(1)",
    "/static/../../pyproject.toml", "/api/openapi.json", "/metrics", "/api/collections",
    "/api/ask", "/%ff%fe", "/api/documents?offset=%2B1", "/api/documents?limit=0x10",
]

RAW = [
    b"GET / HTTP/1.1\r\n\r\n", b"GARBAGE\r\n\r\n", b"GET /api/health HTTP/9.9\r\nHost: t\r\n\r\n",
    b"POST /api/ask HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n",
    b"POST /api/ask HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
    b"POST /api/ask HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"POST /api/ask HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n",
    b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: t\r\n\r\n",
    b"GET /api/health HTTP/1.1\r\nHost: t\r\nX: " + b"b" * 9000 + b"\r\n\r\n",
    b"POST /api/ask HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
    b"Content-Length: 300000\r\n\r\n",
    b"DELETE /api/documents/x.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n",
    b"BREW /api/ask HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n",
]


def serve(work: Path) -> tuple[subprocess.Popen, str]:
    """Build the shipped corpus and serve it (connections.start): the process and URL."""
    proc, port = start({}, work)
    return proc, f"http://127.0.0.1:{port}"


def request(url: str, method: str, path: str, body: bytes | None,
            key: str | None) -> tuple[int, str, bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    try:
        conn.request(method, path, body, headers)
        response = conn.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read()
    finally:
        conn.close()


def raw(url: str, data: bytes) -> tuple[int, str, bytes]:
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=60) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    kind = next((line.split(":", 1)[1].strip() for line in lines[1:]
                 if line.lower().startswith("content-type:")), "")
    return int(lines[0].split()[1]), kind, body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running server (default: start one)")
    parser.add_argument("--key", help="an API key, if the server needs one")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="qa-hostile-"))
    proc = None
    try:
        url = args.url
        if not url:
            proc, url = serve(work)
        probes = [("POST", "/api/ask", json.dumps(b, ensure_ascii=False).encode(
            "utf-8", "surrogatepass")) for b in BODIES]
        probes += [("POST", "/api/ask", b) for b in (b"{", b"\xff\xfe", b"[" * 5000, b"")]
        probes += [("GET", path, None) for path in GETS]
        statuses, bad = Counter(), []
        for method, path, body in probes:
            try:
                status, kind, _ = request(url, method, path, body, args.key)
            except OSError:
                status, kind = 0, ""
            statuses[status] += 1
            # An error must be JSON; pages may be HTML.
            if status == 0 or status >= 500 or (status >= 400 and "json" not in kind):
                bad.append(f"{status} {method} {path[:80]} {(body or b'')[:80]!r}")
        for data in RAW:
            try:
                status, kind, _ = raw(url, data)
            except (OSError, ValueError, IndexError) as exc:
                status, kind = 0, repr(exc)
            statuses[status] += 1
            if status == 0 or status >= 500 and status != 501 or (
                    status >= 400 and "json" not in kind):
                bad.append(f"{status} raw {data[:60]!r}")
        print(json.dumps({"requests": sum(statuses.values()),
                          "statuses": {str(k): v for k, v in sorted(statuses.items())},
                          "failed": bad}, indent=1, ensure_ascii=False))
        sys.exit(1 if bad else 0)
    finally:
        if proc:
            proc.terminate()
            proc.wait(30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
