"""A damaged or missing index never stops the server: it answers 503 and recovers.

Each test runs a real `qa-service serve` (gunicorn) and damages its index from outside,
as an operator's mistake or a full disk would, then publishes a good build with
`qa-service build` into the same folder.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from qa_service.store import layout
from tests.conftest import FAKE_MODEL, FIXTURES, LiveServer, fake_index, post_json

ENV = {"QA_MODEL": FAKE_MODEL}


def _get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def _ask(server: LiveServer) -> tuple[int, dict]:
    return post_json(server.url + "/api/ask", {"question": "museum director"})


def _build(index_dir: Path) -> None:
    """Publish a good build with the command an operator would run."""
    done = subprocess.run(
        [sys.executable, "-m", "qa_service", "build", "--corpus", str(FIXTURES / "corpus"),
         "--index-dir", str(index_dir)],
        capture_output=True, text=True, env={**os.environ, **ENV}, timeout=120)
    assert done.returncode == 0, done.stderr


def _assert_unavailable(server: LiveServer, code: str, root: Path) -> dict:
    """Check that the server is up but answers nothing, saying why without server paths."""
    status, body = _ask(server)
    assert status == 503 and body["error"]["code"] == code, body
    assert str(root) not in json.dumps(body)
    status, ready = _get(server.url + "/api/ready")
    assert status == 503 and ready["error"]["code"] == "not_ready"
    assert str(root) not in json.dumps(ready)
    status, health = _get(server.url + "/api/health")
    assert status == 200 and health["status"] == "degraded"
    assert health["index"] == "unavailable" and health["error"]["code"] == code
    assert str(root) not in json.dumps(health)
    assert server.proc.poll() is None
    return body


def _wait_answering(server: LiveServer, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, body = _ask(server)
        if status == 200:
            return body
        time.sleep(0.2)
    raise AssertionError(f"no answer after a good build: {body}\n{server.log()}")


def _worker(server: LiveServer) -> int:
    children = Path(f"/proc/{server.proc.pid}/task/{server.proc.pid}/children").read_text()
    return int(children.split()[0])


@pytest.mark.parametrize("name", ["passages.faiss", "sentences.npy", "passages.sqlite"])
def test_a_file_truncated_under_a_live_server_gives_503_until_a_good_build(tmp_path, name):
    root = tmp_path / "index"
    fake_index(tmp_path)
    server = LiveServer(root, env=ENV)
    try:
        assert _ask(server)[0] == 200
        version = layout.resolve(root)
        os.truncate(version / name, 0)
        body = _assert_unavailable(server, "index_corrupt", tmp_path)
        assert body["error"]["message"].startswith(f"{name} of version {version.name} has 0 "
                                                   "bytes, the manifest says")
        # A worker restarted over the damaged index boots and answers 503 as well; the
        # server does not shut down.
        old = _worker(server)
        os.kill(old, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and _worker_or_none(server) in (None, old):
            time.sleep(0.1)
        server._wait_ready()
        _assert_unavailable(server, "index_corrupt", tmp_path)
        _build(root)
        answer = _wait_answering(server)
        assert answer["index"] == layout.resolve(root).name != version.name
        assert _get(server.url + "/api/ready")[0] == 200
        assert _get(server.url + "/api/health")[1]["status"] == "ok"
        assert "Traceback" not in server.log() and "SIGBUS" not in server.log()
    finally:
        assert server.stop() == 0


def _worker_or_none(server: LiveServer) -> int | None:
    try:
        return _worker(server)
    except (IndexError, OSError):
        return None


def test_a_server_started_without_an_index_serves_the_first_build(tmp_path):
    root = tmp_path / "index"
    server = LiveServer(root, env=ENV)
    try:
        body = _assert_unavailable(server, "index_missing", tmp_path)
        assert body["error"]["message"] == "no index has been built yet: run `qa-service build`"
        assert "warning: no index to serve" in server.log()
        _build(root)
        assert _wait_answering(server)["passages"]
    finally:
        assert server.stop() == 0


def test_a_server_started_on_a_damaged_index_serves_the_next_build(tmp_path):
    root = tmp_path / "index"
    fake_index(tmp_path)
    version = layout.resolve(root)
    os.truncate(version / "sentences.npy", 100)
    server = LiveServer(root, env=ENV)
    try:
        body = _assert_unavailable(server, "index_corrupt", tmp_path)
        assert body["error"]["message"].startswith(
            f"sentences.npy of version {version.name} has 100 bytes")
        _build(root)
        assert _wait_answering(server)["index"] != version.name
    finally:
        assert server.stop() == 0
