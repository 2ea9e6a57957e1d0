"""`qa-service serve` for real: gunicorn, one log line per request, SIGTERM, --server."""

from __future__ import annotations

import json
import urllib.request

import pytest

from qa_service.cli import cli
from tests.conftest import LiveServer


@pytest.fixture
def server(built):
    server = LiveServer(built.index_dir, env={"QA_MODEL": "hash:256"})
    yield server
    server.stop()


def _post(url: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(url + "/api/ask", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def test_serves_the_api_under_gunicorn_and_logs_each_request(server):
    status, body = _post(server.url, {"question": "museum director", "top_k": 1})
    assert status == 200 and body["passages"][0]["doc_id"] == "more/museum.html"
    status, body = _post(server.url, {"question": ""})
    assert status == 400 and body["error"]["code"] == "invalid_input"
    assert server.wait_for_log(r"^POST /api/ask 200 \d+ms$")
    assert server.wait_for_log(r"^POST /api/ask 400 \d+ms$")
    assert "gunicorn" in server.log().lower()


def test_sigterm_shuts_down_cleanly(server):
    assert server.stop() == 0
    assert "Shutting down" in server.log()


def test_ask_over_the_server_equals_ask_here(server, runner):
    args = ["ask", "--json", "-k", "3", "How much did it cost?",
            "--history", "What happened at the Harbour Museum?"]
    here = runner.invoke(cli, args)
    remote = runner.invoke(cli, [*args, "--server", server.url])
    assert here.exit_code == remote.exit_code == 0, remote.output
    a, b = json.loads(here.stdout), json.loads(remote.stdout)
    a.pop("took_ms"), b.pop("took_ms")
    assert a == b
    readable = runner.invoke(cli, ["ask", "-k", "1", "bridge"], env={"QA_SERVER": server.url})
    assert "Northport Gazette" in readable.stdout


def test_ask_over_the_server_reports_errors_in_one_line(server, runner):
    result = runner.invoke(cli, ["ask", "--server", server.url, "-k", "0", "bridge"])
    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: top_k must be an integer from 1 to 20"


def test_an_unreachable_server_is_a_one_line_error(runner):
    from tests.conftest import free_port

    result = runner.invoke(cli, ["ask", "--server", f"http://127.0.0.1:{free_port()}", "x"])
    assert result.exit_code == 1
    assert "cannot reach" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_serve_without_an_index_fails_at_once_in_one_line(runner, tmp_path):
    result = runner.invoke(cli, ["serve", "--index-dir", str(tmp_path / "none")])
    assert result.exit_code == 1
    assert "no index" in result.stderr and "Traceback" not in result.output
