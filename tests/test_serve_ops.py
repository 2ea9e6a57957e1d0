"""`qa-service serve` with API keys, for real: keys, request ids, /metrics across workers,
readiness, JSON logs and a busy port."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from tests.conftest import FAKE_MODEL, LiveServer

KEY = "ops-test-key-8f3a"


def call(url: str, path: str, key: str | None = None, body: dict | None = None,
         headers: dict | None = None) -> tuple[int, dict, str]:
    """Send a request; return status, headers and body text (errors included)."""
    request = urllib.request.Request(
        url + path, data=json.dumps(body).encode() if body is not None else None,
        headers={**({"Content-Type": "application/json"} if body is not None else {}),
                 **({"Authorization": f"Bearer {key}"} if key else {}), **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode()


@pytest.fixture(scope="module")
def keyed_server(tmp_path_factory):
    """A server with an API key and two workers over the test corpus (fake model)."""
    from tests.conftest import fake_index

    folder = tmp_path_factory.mktemp("keyed")
    settings = fake_index(folder)
    metrics_parent = folder / "tmp"
    metrics_parent.mkdir()
    server = LiveServer(settings.index_dir, env={
        "QA_MODEL": FAKE_MODEL, "QA_API_KEYS": f"another-key,{KEY}",
        "TMPDIR": str(metrics_parent)},
        args=("--workers", "2", "--threads", "2"))
    server.metrics_parent = metrics_parent
    yield server
    server.stop()


def test_the_api_needs_the_key(keyed_server):
    url = keyed_server.url
    question = {"question": "museum director", "top_k": 1}
    status, headers, body = call(url, "/api/ask", body=question)
    assert status == 401 and headers["WWW-Authenticate"].startswith("Bearer")
    assert json.loads(body)["error"]["code"] == "unauthorized"
    assert call(url, "/api/ask", key="not-the-key", body=question)[0] == 401
    status, _, body = call(url, "/api/ask", key=KEY, body=question)
    assert status == 200 and json.loads(body)["passages"][0]["doc_id"] == "more/museum.html"
    assert call(url, "/api/health")[0] == 200  # liveness stays open
    assert call(url, "/")[0] == 200


def test_ready_with_the_key(keyed_server):
    assert call(keyed_server.url, "/api/ready")[0] == 401
    status, _, body = call(keyed_server.url, "/api/ready", key=KEY)
    assert status == 200 and json.loads(body)["status"] == "ready"


def test_the_request_id_is_echoed_or_made_and_logged(keyed_server):
    _, headers, _ = call(keyed_server.url, "/api/documents", key=KEY,
                         headers={"X-Request-ID": "probe-1234"})
    assert headers["X-Request-ID"] == "probe-1234"
    _, headers, _ = call(keyed_server.url, "/api/documents",
                         headers={"X-Request-ID": "bad id\twith tab"})
    made = headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    assert keyed_server.wait_for_log(
        r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} INFO qa_service\.http\.access "
        r"\[probe-1234\] 127\.0\.0\.1 GET /api/documents 200 \d+ms$")
    assert keyed_server.wait_for_log(rf"\[{made}\] 127\.0\.0\.1 GET /api/documents 401 ")
    assert KEY not in keyed_server.log()


def _metrics(url: str) -> dict[str, float]:
    status, headers, body = call(url, "/metrics", key=KEY)
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    assert "# TYPE qa_http_request_duration_seconds histogram" in body
    return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
            for line in body.splitlines() if line and not line.startswith("#")}


def test_metrics_are_closed_without_the_key_and_add_up_across_workers(keyed_server):
    url = keyed_server.url
    status, headers, body = call(url, "/metrics")
    assert status == 401 and headers["WWW-Authenticate"].startswith("Bearer")
    answered = 'qa_questions_total{collection="default",outcome="answered"}'
    before = _metrics(url).get(answered, 0)
    for _ in range(12):  # two workers: each answers some of them
        assert call(url, "/api/ask", key=KEY, body={"question": "museum director"})[0] == 200
    # Whichever worker serves /metrics, it reports both workers' questions.
    for _ in range(4):
        samples = _metrics(url)
        assert samples[answered] - before == 12
    assert samples['qa_http_request_duration_seconds_count{endpoint="/api/ask"}'] >= 12
    assert any(name.startswith('qa_http_request_duration_seconds_bucket{endpoint="/api/ask"')
               for name in samples)
    # One sample per live worker, once both have loaded the index.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        workers = [n for n in _metrics(url) if n.startswith("qa_index_info{")]
        if len(workers) == 2:
            break
        time.sleep(0.2)
    assert len(workers) == 2
    assert samples['qa_index_passages{collection="default"}'] > 0
    assert "prometheus_client was imported" not in keyed_server.log()


def test_the_metrics_folder_is_private_to_the_server_and_removed_after(tmp_path, built):
    parent = tmp_path / "tmp"
    parent.mkdir()
    server = LiveServer(built.index_dir, env={"QA_MODEL": FAKE_MODEL, "TMPDIR": str(parent)})
    try:
        assert [p.name.startswith("qa-service-metrics-") for p in parent.iterdir()] == [True]
    finally:
        assert server.stop() == 0
    assert list(parent.iterdir()) == []


def test_json_logs_are_one_object_a_line(built):
    server = LiveServer(built.index_dir, env={"QA_MODEL": FAKE_MODEL,
                                              "QA_LOG_FORMAT": "json"})
    try:
        _, headers, _ = call(server.url, "/api/health", headers={"X-Request-ID": "json-1"})
        assert server.wait_for_log(r'"request_id": "json-1"')
    finally:
        server.stop()
    entries = [json.loads(line) for line in server.log().splitlines() if line.strip()]
    access = [e for e in entries if e["logger"] == "qa_service.http.access"
              and e["request_id"] == "json-1"]
    assert len(access) == 1 and access[0]["status"] == 200
    assert access[0]["path"] == "/api/health" and access[0]["client"] == "127.0.0.1"
    assert any("Serving" in e["message"] for e in entries)


def test_a_busy_port_is_one_line_and_exit_1_at_once(built):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", "qa_service", "serve", "--port", str(port),
             "--index-dir", str(built.index_dir)],
            capture_output=True, text=True, timeout=10)
        took = time.monotonic() - started
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert result.returncode == 1 and took < 10
    assert len(lines) <= 3 and "Serving" not in result.stdout + result.stderr
    assert f"Error: port {port} on 127.0.0.1 is already in use" in lines


def test_a_port_taken_after_the_check_is_still_one_line():
    """The race: the port is taken between the check and gunicorn's bind."""
    from gunicorn.config import Config

    from qa_service.http.serve import listen_once

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = Config()
        config.set("bind", f"127.0.0.1:{port}")
        started = time.monotonic()
        with pytest.raises(RuntimeError, match=f"port {port} on 127.0.0.1 is already in use"):
            listen_once(config.address[0], config, None)
        assert time.monotonic() - started < 1  # no retries
