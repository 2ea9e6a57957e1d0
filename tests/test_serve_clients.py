"""`qa-service serve` for real against slow, silent and malformed clients, over raw sockets."""

from __future__ import annotations

import json
import os
import re
import resource
import socket
import time
import urllib.request
from contextlib import ExitStack

import pytest

from tests.conftest import FAKE_MODEL, LiveServer, fake_index, free_port

ASK = b'{"question": "museum director", "top_k": 1}'
TIMEOUT = 3  # QA_REQUEST_TIMEOUT of the module's server, seconds


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    return fake_index(tmp_path_factory.mktemp("clients")).index_dir


@pytest.fixture(scope="module")
def server(index_dir):
    """One worker of four threads (the default), with a short request timeout."""
    server = LiveServer(index_dir, env={"QA_MODEL": FAKE_MODEL,
                                        "QA_REQUEST_TIMEOUT": str(TIMEOUT)})
    yield server
    server.stop()


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def exchange(port: int, data: bytes, timeout: float = 10) -> bytes:
    """Send `data` on a new connection; return all the server sends until it closes."""
    with connect(port) as sock:
        sock.settimeout(timeout)
        sock.sendall(data)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
        return received


def parse(response: bytes) -> tuple[int, dict, bytes]:
    """Split an HTTP/1.1 response into status, headers (lower-case names) and body."""
    head, _, body = response.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


def ask(port: int, body: bytes = ASK, path: str = "/api/ask") -> tuple[int, dict, float]:
    """POST `body` as JSON (GET if empty); return status, JSON body and seconds taken."""
    method = b"POST" if body else b"GET"
    request = (method + b" " + path.encode() + b" HTTP/1.1\r\nHost: t\r\n"
               b"Content-Type: application/json\r\nConnection: close\r\n"
               b"Content-Length: %d\r\n\r\n" % len(body) + body)
    start = time.monotonic()
    status, _, payload = parse(exchange(port, request))
    return status, json.loads(payload), time.monotonic() - start


def assert_json_error(response: bytes, status: int) -> dict:
    got, headers, body = parse(response)
    assert got == status, response[:300]
    assert headers["content-type"] == "application/json"
    assert headers["content-security-policy"].startswith("default-src 'none'")
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert re.fullmatch(r"[0-9a-f]{32}", headers["x-request-id"])  # refusals too (issue 26)
    assert b"<html" not in body.lower()
    error = json.loads(body)["error"]
    assert set(error) == {"code", "message"} and error["message"]
    return error


def test_half_sent_requests_hold_no_thread(server):
    with ExitStack() as stack:
        # Eight requests whose headers never end, and eight bodies that never arrive
        # whole: twice the worker's threads each.
        for _ in range(8):
            sock = stack.enter_context(connect(server.port))
            sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: t\r\n")
        for _ in range(8):
            sock = stack.enter_context(connect(server.port))
            sock.sendall(b"POST /api/ask HTTP/1.1\r\nHost: t\r\nContent-Type: "
                         b"application/json\r\nContent-Length: 1000\r\n\r\n" + ASK[:20])
        time.sleep(0.3)
        for _ in range(3):
            status, body, took = ask(server.port, b"", "/api/health")
            assert status == 200 and body["status"] == "ok" and took < 1
            status, body, took = ask(server.port)
            assert status == 200 and body["passages"] and took < 1


def test_silent_connections_delay_nobody(server):
    with ExitStack() as stack:
        for _ in range(20):
            stack.enter_context(connect(server.port))
        time.sleep(0.3)
        for _ in range(3):
            status, _, took = ask(server.port)
            assert status == 200 and took < 1


def test_a_request_not_sent_whole_in_time_gets_408(server):
    with connect(server.port) as sock:
        sock.settimeout(TIMEOUT + 5)
        start = time.monotonic()
        sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: t\r\n")
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
        assert TIMEOUT - 0.5 < time.monotonic() - start < TIMEOUT + 2.5
    assert assert_json_error(received, 408)["code"] == "request_timeout"


CHUNKED = (b"POST /api/ask HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
           b"Transfer-Encoding: chunked\r\n\r\n")

MALFORMED = {
    "query string of 5,000 characters": (
        b"GET /api/health?q=" + b"a" * 5000 + b" HTTP/1.1\r\nHost: t\r\n\r\n", 414),
    "one header line over 8 KiB": (
        b"GET /api/health HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n", 431),
    "headers over 64 KiB in all": (
        b"GET /api/health HTTP/1.1\r\nHost: t\r\n"
        + b"".join(b"X-%d: %s\r\n" % (i, b"a" * 8000) for i in range(10)) + b"\r\n", 431),
    "Content-Length not a number": (
        b"POST /api/ask HTTP/1.1\r\nHost: t\r\nContent-Length: abc\r\n\r\n{}", 400),
    "two Content-Lengths": (
        b"POST /api/ask HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nContent-Length: 3\r\n"
        b"\r\n{}", 400),
    "HTTP version 9.9": (b"GET /api/health HTTP/9.9\r\nHost: t\r\n\r\n", 400),
    "no HTTP version": (b"GET /api/health HTTX\r\nHost: t\r\n\r\n", 400),
    "chunk size not hex": (CHUNKED + b"zz\r\n{}\r\n0\r\n\r\n", 400),
    "chunk without its CRLF": (CHUNKED + b"2\r\n{}XX0\r\n\r\n", 400),
    "chunked body over 256 KiB": (
        CHUNKED + (b"10000\r\n" + b"a" * 0x10000 + b"\r\n") * 5 + b"0\r\n\r\n", 413),
    "Content-Length over 256 KiB, body not sent": (
        b"POST /api/ask HTTP/1.1\r\nHost: t\r\nContent-Length: 10000000\r\n\r\n", 413),
    "Content-Length over 256 KiB, body sent": (
        b"POST /api/ask HTTP/1.1\r\nHost: t\r\nContent-Length: 300000\r\n\r\n"
        + b"a" * 300000, 413),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_malformed_http_gets_a_json_4xx(server, case):
    data, status = MALFORMED[case]
    assert_json_error(exchange(server.port, data), status)
    # And the server is none the worse for it.
    assert ask(server.port)[0] == 200


def test_a_whole_chunked_body_and_pipelined_requests_are_answered(server):
    body = CHUNKED.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n") + (
        b"%x\r\n%s\r\n0\r\n\r\n" % (len(ASK), ASK))
    status, _, payload = parse(exchange(server.port, body))
    assert status == 200 and json.loads(payload)["passages"]
    both = exchange(server.port, b"GET /api/health HTTP/1.1\r\nHost: t\r\n\r\n"
                                 b"GET /api/health HTTP/1.1\r\nHost: t\r\n"
                                 b"Connection: close\r\n\r\n")
    assert both.count(b"HTTP/1.1 200 OK") == 2


def test_expect_100_continue_is_answered_before_the_body(server):
    with connect(server.port) as sock:
        sock.sendall(b"POST /api/ask HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                     b"Expect: 100-continue\r\nConnection: close\r\n"
                     b"Content-Length: %d\r\n\r\n" % len(ASK))
        assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(ASK)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    assert received.startswith(b"HTTP/1.1 200 OK") and b"100 Continue" not in received


def test_two_servers_stop_independently(index_dir, tmp_path):
    # gunicorn's default control socket is one path per user ($HOME/.gunicorn): one server
    # stopping took it away from the other.
    env = {k: v for k, v in os.environ.items() if k != "XDG_RUNTIME_DIR"}
    env.update(HOME=str(tmp_path), QA_MODEL=FAKE_MODEL)
    first = LiveServer(index_dir, env=env)
    second = LiveServer(index_dir, env=env)
    try:
        with connect(first.port) as slow:  # stopping with a half-sent request open
            slow.sendall(b"GET /api/health HTTP/1.1\r\nHost: t\r\n")
            # Usually 5 s (2 s for the request to arrive, its 408, 2 s linger); about one
            # stop in five right after a request waits out the 20 s graceful timeout
            # (not understood yet), so the time is not asserted here.
            assert first.stop() == 0, first.log()
        for _ in range(3):
            assert ask(second.port, b"", "/api/health")[0] == 200, second.log()
            assert ask(second.port)[0] == 200, second.log()
        assert not list(tmp_path.rglob("*.ctl"))
    finally:
        first.stop()
        assert second.stop() == 0, second.log()


@pytest.mark.parametrize("setting, value, message", [
    ("QA_REQUEST_TIMEOUT", "0", "request_timeout must be a number of seconds above 0"),
    ("QA_CLIENT_CONNECTIONS", "-1", "client_connections must be 0 (no cap) or more"),
    ("QA_CLIENT_CONNECTIONS", "many", "client_connections must be"),
])
def test_a_bad_serving_setting_stops_the_start_in_one_line(index_dir, setting, value,
                                                           message):
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "qa_service", "serve", "--port", str(free_port()),
         "--index-dir", str(index_dir)], capture_output=True, text=True, timeout=60,
        env={**os.environ, "QA_MODEL": FAKE_MODEL, setting: value})
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr


# Without the per-client cap (QA_CLIENT_CONNECTIONS=0), as behind a proxy where every client
# has the proxy's address: the worker still makes room when one client floods it.
NO_CAP = {"QA_MODEL": FAKE_MODEL, "QA_CLIENT_CONNECTIONS": "0"}


def test_idle_connections_past_the_workers_room_do_not_hold_up_a_request(index_dir):
    # 1,500 connections that send nothing, more than a worker's 1,000: before, gunicorn
    # stopped accepting and /api/health waited in the kernel's queue past 15 s, until
    # the idle ones timed out. The worker now closes idle ones when nearly full.
    soft, hard = _allow_sockets(1_700)
    server = LiveServer(index_dir, env=NO_CAP)
    idle = []
    try:
        idle += _idle_connections(server.port, 1_500)
        times = []
        for _ in range(10):
            started = time.monotonic()
            with urllib.request.urlopen(server.url + "/api/health", timeout=10) as answer:
                assert answer.status == 200
            times.append(time.monotonic() - started)
            time.sleep(0.2)
        assert max(times) < 2.0, times  # within the worker's 1 s loop, not 15 s
        assert server.wait_for_log(r"Full: closed \d+ idle connection")
    finally:
        for sock in idle:
            sock.close()
        server.stop()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_one_client_s_thousands_of_idle_connections_do_not_push_out_another_s(index_dir):
    # Client B (127.0.0.2) opens 20 keep-alive connections first; client A (127.0.0.1)
    # then holds 1,500 idle ones. Closing the longest waiting first took B's; the
    # client holding most now loses its own.
    soft, hard = _allow_sockets(1_800)
    server = LiveServer(index_dir, env=NO_CAP, args=("--host", "0.0.0.0"))
    mine, hog = [], []
    try:
        for _ in range(20):
            sock = socket.create_connection(("127.0.0.1", server.port),
                                            source_address=("127.0.0.2", 0))
            mine.append(sock)
        time.sleep(0.5)
        hog += _idle_connections(server.port, 1_500)
        assert server.wait_for_log(r"Full: closed \d+ idle connection", timeout=15)
        answered = 0
        for sock in mine:  # each of B's connections still answers a request
            sock.settimeout(10)
            sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: t\r\n\r\n")
            answered += sock.recv(64).startswith(b"HTTP/1.1 200")
        assert answered == len(mine)
    finally:
        for sock in mine + hog:
            sock.close()
        server.stop()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def _allow_sockets(wanted: int) -> tuple[int, int]:
    """Raise this process's open-file limit to `wanted` (or skip); return the old one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < wanted:
        pytest.skip(f"this test opens {wanted} sockets; the hard limit is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, wanted), hard))
    return soft, hard


def _idle_connections(port: int, count: int) -> list[socket.socket]:
    """Open `count` connections to `port` that send nothing."""
    found = []
    for _ in range(count):
        sock = socket.socket()
        sock.setblocking(False)
        sock.connect_ex(("127.0.0.1", port))
        found.append(sock)
    return found


def test_a_client_s_thousand_half_sent_requests_do_not_keep_another_client_waiting(index_dir):
    # 1,100 connections from one address, each with half a request line sent: not idle,
    # so none was closed, the worker was full, and another client waited in the kernel's
    # queue until request_timeout (20 s here). The client holding most is refused now.
    soft, hard = _allow_sockets(1_400)
    server = LiveServer(index_dir, env={**NO_CAP, "QA_REQUEST_TIMEOUT": "20"},
                        args=("--host", "0.0.0.0"))
    slow = []
    try:
        for _ in range(1_100):  # each sends the start of a request as it connects
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: t\r\n")
            slow.append(sock)
        time.sleep(1.5)
        started = time.monotonic()
        conn = socket.create_connection(("127.0.0.1", server.port), timeout=15,
                                        source_address=("127.0.0.2", 0))
        conn.sendall(b"GET /api/health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        assert conn.recv(64).startswith(b"HTTP/1.1 200")
        conn.close()
        assert time.monotonic() - started < 5.0
        assert server.wait_for_log(r"Full: refused \d+ slow connection")
    finally:
        for sock in slow:
            sock.close()
        server.stop()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_connections_past_a_client_s_cap_are_answered_429_at_once(index_dir):
    # One address holds its 20 connections (QA_CLIENT_CONNECTIONS): its 21st is answered
    # 429 with Retry-After at once, another address is served, and the first is again
    # once it closes some. (Not 127.0.0.1, whose readiness probe may still be counted.)
    server = LiveServer(index_dir, env={"QA_MODEL": FAKE_MODEL, "QA_CLIENT_CONNECTIONS": "20"},
                        args=("--host", "0.0.0.0"))

    def health(source: str) -> bytes:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10,
                                      source_address=(source, 0)) as sock:
            sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            received = b""
            while chunk := sock.recv(65536):
                received += chunk
            return received

    held = []
    try:
        held += [socket.create_connection(("127.0.0.1", server.port), timeout=10,
                                          source_address=("127.0.0.3", 0)) for _ in range(20)]
        time.sleep(0.3)
        started = time.monotonic()
        refused = health("127.0.0.3")
        assert time.monotonic() - started < 1.0
        error = assert_json_error(refused, 429)
        assert "at most 20" in error["message"]
        assert parse(refused)[1]["retry-after"] == "1"
        assert health("127.0.0.2").startswith(b"HTTP/1.1 200")
        assert server.wait_for_log(r"Refused 1 new connection\(s\) at once: 1 client_cap")
        for sock in held[:5]:
            sock.close()
        refusals = 1
        for _ in range(50):  # until the worker has seen them close
            time.sleep(0.2)
            status = parse(health("127.0.0.3"))[0]
            if status == 200:
                break
            assert status == 429
            refusals += 1
        assert status == 200
        with urllib.request.urlopen(server.url + "/metrics", timeout=10) as answer:
            assert f'qa_connections_refused_total{{reason="client_cap"}} {refusals}.0' in (
                answer.read().decode())
    finally:
        for sock in held:
            sock.close()
        server.stop()


def test_a_full_worker_refuses_a_new_connection_at_once_instead_of_queueing_it(index_dir):
    # 1,000 half-sent requests from 20 addresses, 50 each: no client holds more than its
    # share, so none is refused to make room, and the worker is full. A new connection
    # waited in the kernel's queue until request_timeout (20 s here) freed a slot; it is
    # answered 503 with Retry-After at once now.
    soft, hard = _allow_sockets(1_300)
    server = LiveServer(index_dir, env={"QA_MODEL": FAKE_MODEL, "QA_REQUEST_TIMEOUT": "20"},
                        args=("--host", "0.0.0.0"))
    slow = []
    try:
        for n in range(1_000):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=5,
                                            source_address=(f"127.0.1.{n % 20 + 1}", 0))
            sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: t\r\n")
            slow.append(sock)
        time.sleep(1.5)
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", server.port), timeout=15,
                                      source_address=("127.0.0.2", 0)) as conn:
            conn.sendall(b"GET /api/health HTTP/1.1\r\nHost: t\r\n\r\n")
            conn.settimeout(15)
            received = b""
            while chunk := conn.recv(65536):
                received += chunk
        assert time.monotonic() - started < 2.0, received[:200]
        assert assert_json_error(received, 503)["message"].startswith("the server is full")
        assert parse(received)[1]["retry-after"] == "1"
    finally:
        for sock in slow:
            sock.close()
        server.stop()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
