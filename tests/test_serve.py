"""`qa-service serve` for real: gunicorn, one log line per request, SIGTERM, --server."""

from __future__ import annotations

import json
import urllib.request

import pytest

from qa_service.cli import cli
from tests.conftest import LiveServer, post_json


@pytest.fixture
def server(built):
    server = LiveServer(built.index_dir, env={"QA_MODEL": "hash:256"})
    yield server
    server.stop()


def _post(url: str, body: dict) -> tuple[int, dict]:
    return post_json(url + "/api/ask", body)


def test_serves_the_api_under_gunicorn_and_logs_each_request(server):
    status, body = _post(server.url, {"question": "museum director", "top_k": 1})
    assert status == 200 and body["passages"][0]["doc_id"] == "more/museum.html"
    status, body = _post(server.url, {"question": ""})
    assert status == 400 and body["error"]["code"] == "invalid_input"
    # One access line per request: time, level, logger, [request id], client, method,
    # path, status and duration.
    access = r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} INFO qa_service\.http\.access " \
             r"\[[0-9a-f]{32}\] 127\.0\.0\.1 POST /api/ask %d \d+ms$"
    assert server.wait_for_log(access % 200)
    assert server.wait_for_log(access % 400)
    assert "gunicorn" in server.log().lower()


def test_sigterm_shuts_down_cleanly(server):
    assert server.stop() == 0
    assert "Shutting down" in server.log()


@pytest.mark.parametrize("workers", ["1", "2"])
def test_sigterm_answers_every_request_already_sent(built, workers):
    # 40 whole requests on their own connections, then SIGTERM 30 ms later: some are
    # still in the kernel's accept queue. Before, those were reset (3 to 16 of 40).
    import signal
    import socket
    import time

    server = LiveServer(built.index_dir, env={"QA_MODEL": "hash:256"},
                        args=("--workers", workers))
    body = json.dumps({"question": "museum director", "top_k": 1}).encode()
    request = (b"POST /api/ask HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
               b"Content-Length: %d\r\n\r\n" % len(body)) + body
    clients = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(40)]
    for client in clients:
        client.sendall(request)
    time.sleep(0.03)
    server.proc.send_signal(signal.SIGTERM)
    answers = []
    for client in clients:
        client.settimeout(30)
        received = b""
        try:
            while chunk := client.recv(65536):
                received += chunk
        except ConnectionResetError:
            received = b"reset"
        client.close()
        answers.append(received.split(b"\r\n", 1)[0])
    assert server.proc.wait(30) == 0
    assert answers == [b"HTTP/1.1 200 OK"] * 40, answers
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


def test_serve_with_an_unknown_query_backend_fails_at_once_in_one_line(runner, built,
                                                                      monkeypatch):
    monkeypatch.setenv("QA_QUERY_BACKEND", "fp4")
    result = runner.invoke(cli, ["serve", "--index-dir", str(built.index_dir)])
    assert result.exit_code == 1
    assert "unknown backend 'fp4'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("trigger", ["sighup", "automatic"])
def test_a_new_build_is_served_with_no_failed_or_mixed_answer(built, corpus, runner, trigger):
    """Rebuild under load: every answer is whole from the old or the new index."""
    import signal
    import threading
    import time

    from qa_service.store import layout

    # With checks off, only SIGHUP can make the workers switch.
    interval = "0" if trigger == "sighup" else "0.2"
    server = LiveServer(built.index_dir, env={"QA_MODEL": "hash:256",
                                              "QA_RELOAD_INTERVAL": interval},
                        args=("--workers", "2"))
    question = {"question": "zebracorn parade on the bridge", "top_k": 8}
    answers: list[tuple[float, int, dict]] = []
    stop = threading.Event()

    def load() -> None:
        while not stop.is_set():
            sent = time.monotonic()
            try:
                status, body = _post(server.url, question)
            except OSError as exc:  # no answer at all: the worst failure
                status, body = 0, {"error": repr(exc)}
            answers.append((sent, status, body))

    def ranking(body: dict) -> list:
        return [(p["id"], p["score"]) for p in body["passages"]]

    try:
        status, before = _post(server.url, question)
        old = before["index"]
        clients = [threading.Thread(target=load) for _ in range(3)]
        for t in clients:
            t.start()
        (corpus / "parade.txt").write_text(
            "Zebracorn parade\n\nThe zebracorn parade crossed the Riverside bridge in "
            "Northport on Sunday, watched by four thousand people.\n", "utf-8")
        (corpus / "flood.txt").write_text(
            (corpus / "flood.txt").read_text("utf-8").replace("four metres", "five metres"),
            "utf-8")
        result = runner.invoke(cli, ["build", "--corpus", str(corpus)])
        assert result.exit_code == 0, result.output
        new = layout.resolve(built.index_dir).name
        if trigger == "sighup":
            server.proc.send_signal(signal.SIGHUP)
        # Both workers serve the new index once it answers many times in a row.
        deadline, in_a_row = time.monotonic() + 30, 0
        while in_a_row < 20 and time.monotonic() < deadline:
            with urllib.request.urlopen(server.url + "/api/health", timeout=10) as r:
                in_a_row = in_a_row + 1 if json.load(r)["index"]["version"] == new else 0
        switched = time.monotonic()
        while sum(1 for a in answers if a[0] > switched) < 10 and time.monotonic() < deadline:
            time.sleep(0.05)
        stop.set()
        for t in clients:
            t.join()
    finally:
        stop.set()
        server.stop()
    assert status == 200 and in_a_row == 20, server.log()
    after = next(body for sent, _, body in reversed(answers) if sent > switched)
    assert after["index"] == new and "parade.txt" in {p["doc_id"] for p in after["passages"]}
    expected = {old: ranking(before), new: ranking(after)}
    assert expected[old] != expected[new]
    assert [a for a in answers if a[1] != 200] == []
    assert all(ranking(body) == expected[body["index"]] for _, _, body in answers)
    assert {body["index"] for _, _, body in answers} == {old, new}
    assert all(body["index"] == new for sent, _, body in answers if sent > switched)
    assert "now serving index " + new in server.log()


@pytest.mark.model
@pytest.mark.parametrize("raw", [
    b'{"question": "\\ud800 How many died?"}',
    b'{"question": "How many died?", "history": ["\\udfff"]}',
], ids=["question", "history"])
def test_lone_surrogates_get_an_answer_from_the_real_model(real_server, raw):
    request = urllib.request.Request(real_server.url + "/api/ask", data=raw,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        body = json.load(response)
    assert response.status == 200 and body["passages"]
