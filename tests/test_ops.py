"""Operations in-process: API keys, request ids, /metrics, readiness, document pages."""

from __future__ import annotations

import json
import logging
import re

import pytest

from qa_service.cli import cli
from qa_service.config import Settings
from qa_service.errors import InvalidInput
from qa_service.http import create_app
from qa_service.http.auth import is_valid, load_keys
from qa_service.http.logs import JsonFormatter, RequestIdFilter
from tests.conftest import FAKE_MODEL

KEYS = "first-key-0123,second-key-4567"
BEARER = {"Authorization": "Bearer second-key-4567"}
KEYED_PATHS = ["/api/documents", "/api/documents/more/museum.html", "/api/ready",
               "/api/openapi.json", "/metrics"]


@pytest.fixture
def keyed(built):
    app = create_app({"index_dir": built.index_dir, "model": FAKE_MODEL, "api_keys": KEYS,
                      "TESTING": True})
    return app.test_client()


def _ask(client, question: str, headers=None):
    return client.post("/api/ask", json={"question": question}, headers=headers or {})


# API keys


@pytest.mark.parametrize("path", KEYED_PATHS)
def test_a_request_without_a_key_is_refused_with_401_and_the_json_error(keyed, path):
    response = keyed.get(path)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.get_json()["error"]["code"] == "unauthorized"
    assert "Authorization: Bearer" in response.get_json()["error"]["message"]


@pytest.mark.parametrize("path", KEYED_PATHS)
def test_the_right_key_opens_every_path(keyed, path):
    assert keyed.get(path, headers=BEARER).status_code == 200


def test_ask_needs_a_key_and_every_configured_key_works(keyed):
    assert _ask(keyed, "bridge").status_code == 401
    for key in KEYS.split(","):
        assert _ask(keyed, "bridge", {"Authorization": f"Bearer {key}"}).status_code == 200
    assert _ask(keyed, "bridge", {"Authorization": "bearer first-key-0123"}).status_code == 200


@pytest.mark.parametrize("header", ["Bearer wrong-key", "Bearer first-key-012",
                                    "Bearer first-key-01234", "Basic Zmlyc3Qta2V5LTAxMjM=",
                                    "first-key-0123", "Bearer ", "Bearer fïrst-key-0123"])
def test_a_wrong_key_is_refused(keyed, header):
    response = _ask(keyed, "bridge", {"Authorization": header})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_a_client_refused_too_often_is_throttled_and_others_are_not(built):
    app = create_app({"index_dir": built.index_dir, "model": FAKE_MODEL, "api_keys": KEYS,
                      "auth_failure_limit": "3/minute", "TESTING": True})
    guesser = app.test_client()
    guesser.environ_base["REMOTE_ADDR"] = "203.0.113.7"
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "198.51.100.2"
    wrong = {"Authorization": "Bearer guess-0001"}
    assert [_ask(guesser, "bridge", wrong).status_code for _ in range(3)] == [401] * 3
    throttled = _ask(guesser, "bridge", wrong)
    assert throttled.status_code == 429
    assert throttled.get_json()["error"]["code"] == "too_many_requests"
    assert 1 <= int(throttled.headers["Retry-After"]) <= 60
    # Past the limit even the right key waits: a lucky guess would tell nothing sooner.
    assert _ask(guesser, "bridge", BEARER).status_code == 429
    assert guesser.get("/api/documents").status_code == 429  # no key at all: the same
    # Another address is not held up, and sees the refusals counted.
    assert _ask(other, "bridge", BEARER).status_code == 200
    samples = _samples(other, BEARER)
    assert samples['qa_auth_failures_total{outcome="refused"}'] >= 3
    assert samples['qa_auth_failures_total{outcome="throttled"}'] >= 3


def test_the_throttle_of_refused_keys_can_be_turned_off(built):
    app = create_app({"index_dir": built.index_dir, "model": FAKE_MODEL, "api_keys": KEYS,
                      "auth_failure_limit": "off", "TESTING": True})
    client = app.test_client()
    assert {_ask(client, "bridge").status_code for _ in range(15)} == {401}
    assert _ask(client, "bridge", BEARER).status_code == 200


def test_a_malformed_auth_failure_limit_is_a_clear_error(built):
    from qa_service.errors import InvalidInput

    with pytest.raises(InvalidInput, match="auth_failure_limit must look like"):
        create_app({"index_dir": built.index_dir, "model": FAKE_MODEL, "api_keys": KEYS,
                    "auth_failure_limit": "lots", "TESTING": True})


def test_health_and_the_pages_stay_open(keyed):
    assert keyed.get("/api/health").status_code == 200
    assert keyed.get("/").status_code == 200
    assert keyed.get("/static/chat.js").status_code == 200
    assert keyed.get("/documents/more/museum.html").status_code == 200


def test_without_keys_nothing_asks_for_one(client):
    assert _ask(client, "bridge").status_code == 200
    assert client.get("/metrics").status_code == 200


def test_keys_are_never_logged(keyed, caplog):
    caplog.set_level(logging.DEBUG)
    _ask(keyed, "bridge", BEARER)
    _ask(keyed, "bridge", {"Authorization": "Bearer a-wrong-guess-999"})
    logged = "\n".join(r.getMessage() + json.dumps(r.__dict__, default=str)
                       for r in caplog.records)
    assert "second-key-4567" not in logged and "a-wrong-guess-999" not in logged


def test_every_key_is_compared_in_constant_time(monkeypatch):
    import hmac

    calls = []
    real = hmac.compare_digest
    monkeypatch.setattr(hmac, "compare_digest", lambda a, b: calls.append(b) or real(a, b))
    keys = [b"alpha", b"beta", b"gamma"]
    assert is_valid(b"alpha", keys)  # the first matches: the others are still compared
    assert calls == keys
    assert not is_valid(b"delta", keys)


def test_keys_come_from_a_file_one_a_line(tmp_path):
    path = tmp_path / "keys"
    path.write_text("# rotated 2026-11\n\nkey-one\n  key-two  \n")
    settings = Settings().with_(api_keys_file=str(path), api_keys="key-three")
    assert load_keys(settings, environ={}) == [b"key-three", b"key-one", b"key-two"]


@pytest.mark.parametrize("changes, environ, message", [
    ({"api_keys": "  "}, {}, "holds no key"),
    ({"api_keys": " , ,"}, {}, "holds no key"),
    ({"api_keys": "good,has space"}, {}, "API key 2 in api_keys has spaces"),
    ({"api_keys_file": "/nonexistent/keys"}, {}, "cannot read the API key file"),
    ({}, {"QA_API_KEYS": ""}, "QA_API_KEYS is set but empty"),
    ({}, {"QA_API_KEYS_FILE": " "}, "QA_API_KEYS_FILE is set but empty"),
])
def test_a_key_list_that_holds_no_usable_key_stops_the_start(changes, environ, message):
    with pytest.raises(InvalidInput, match=message):
        load_keys(Settings().with_(**changes), environ=environ)


def test_a_key_file_of_comments_only_stops_the_app(built, tmp_path):
    path = tmp_path / "keys"
    path.write_text("# nothing yet\n\n")
    with pytest.raises(InvalidInput, match="holds no key"):
        create_app({"index_dir": built.index_dir, "api_keys_file": str(path)})


def test_serve_refuses_an_empty_key_list_in_one_line(runner, built):
    from tests.conftest import free_port

    result = runner.invoke(cli, ["serve", "--port", str(free_port()), "--index-dir",
                                 str(built.index_dir)], env={"QA_API_KEYS": " "})
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "Error: QA_API_KEYS is set but empty: give at least one API key, or unset it to "
        "serve without keys"]


# Request ids


def test_a_well_formed_request_id_is_echoed(client):
    for rid in ("abc-123", "a" * 128, "trace:1.2_3-4"):
        assert client.get("/api/health", headers={"X-Request-ID": rid}).headers[
            "X-Request-ID"] == rid


@pytest.mark.parametrize("rid", ["", "a" * 129, "has space", "<script>", "x\u00e9"])
def test_a_missing_or_malformed_request_id_is_replaced(client, rid):
    answer = client.get("/api/health", headers={"X-Request-ID": rid} if rid else {})
    assert re.fullmatch(r"[0-9a-f]{32}", answer.headers["X-Request-ID"])


def test_errors_carry_the_request_id_too(keyed):
    for response in (keyed.get("/api/nothing-here", headers={"X-Request-ID": "r-1"}),
                     keyed.get("/api/ready", headers={"X-Request-ID": "r-1"}),
                     keyed.post("/api/ask", data="{", headers={
                         **BEARER, "X-Request-ID": "r-1", "Content-Type": "application/json"})):
        assert response.status_code >= 400
        assert response.headers["X-Request-ID"] == "r-1"


@pytest.fixture
def records():
    """Records of the service's loggers as a handler with the request id filter sees them."""
    class Keep(logging.Handler):
        def __init__(self):
            super().__init__(logging.DEBUG)
            self.records: list[logging.LogRecord] = []
            self.addFilter(RequestIdFilter())

        def emit(self, record):
            self.records.append(record)

    handler = Keep()
    logger = logging.getLogger("qa_service")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler.records
    logger.removeHandler(handler)
    logger.setLevel(old_level)


def test_every_log_line_of_a_request_carries_its_id(app, records, monkeypatch):
    service = app.extensions["qa"].current
    documents = service.documents

    def logging_documents(*args):
        logging.getLogger("qa_service.service").warning("listing the documents")
        return documents(*args)

    monkeypatch.setattr(service, "documents", logging_documents)
    app.test_client().get("/api/documents", headers={"X-Request-ID": "req-42"})
    mine = [r for r in records if r.request_id == "req-42"]
    assert {r.name for r in mine} >= {"qa_service.service", "qa_service.http.access"}
    logging.getLogger("qa_service.service").warning("between requests")
    assert records[-1].request_id == "-"


def test_the_access_line_has_client_method_path_status_duration(client, records):
    client.get("/api/documents?limit=2", headers={"X-Request-ID": "req-7"})
    access = [r for r in records if r.name == "qa_service.http.access"][-1]
    assert access.request_id == "req-7"
    assert re.fullmatch(r"127\.0\.0\.1 GET /api/documents 200 \d+ms", access.getMessage())
    assert (access.client, access.method, access.path, access.status) == (
        "127.0.0.1", "GET", "/api/documents", 200)
    assert access.duration_ms >= 0


def test_a_path_cannot_forge_a_log_line(client, records):
    client.get("/api/x%0aINFO%20forged")
    access = [r for r in records if r.name == "qa_service.http.access"][-1]
    assert "\n" not in access.getMessage() and "\\n" in access.getMessage()


def test_json_logs_are_one_object_a_line(client, records):
    client.get("/api/health", headers={"X-Request-ID": "req-9"})
    access = [r for r in records if r.name == "qa_service.http.access"][-1]
    line = JsonFormatter().format(access)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["request_id"] == "req-9" and entry["status"] == 200
    assert entry["path"] == "/api/health" and entry["level"] == "INFO"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", entry["time"])


# /metrics


def _samples(client, headers=None) -> dict[str, float]:
    response = client.get("/metrics", headers=headers or {})
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    samples = {}
    for line in response.get_data(as_text=True).splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    return samples


def test_metrics_count_requests_latency_and_answered_versus_declined(client):
    before = _samples(client)
    assert _ask(client, "museum director").get_json()["answerable"]
    assert not _ask(client, "qqqzz vvvxx").get_json()["answerable"]
    client.get("/api/documents/no/such/doc")
    after = _samples(client)

    def grew(name: str) -> float:
        return after.get(name, 0) - before.get(name, 0)

    assert grew('qa_questions_total{collection="default",outcome="answered"}') == 1
    assert grew('qa_questions_total{collection="default",outcome="declined"}') == 1
    assert grew('qa_http_requests_total{endpoint="/api/ask",method="POST",status="200"}') == 2
    # The route, not the path: one series for every document.
    assert grew('qa_http_requests_total{endpoint="/api/documents/<path:doc_id>",'
                'method="GET",status="404"}') == 1
    assert grew('qa_http_request_duration_seconds_count{endpoint="/api/ask"}') == 2
    assert grew('qa_http_request_duration_seconds_bucket{endpoint="/api/ask",le="+Inf"}') == 2
    assert grew('qa_http_request_duration_seconds_sum{endpoint="/api/ask"}') > 0


def test_metrics_do_not_grow_with_the_methods_and_paths_clients_send(client):
    import random

    rng = random.Random(0)

    def series() -> int:
        return sum(1 for name in _samples(client) if name.startswith("qa_http_requests_total"))

    for _ in range(50):  # the fixed routes, methods and statuses, once each
        client.open(f"/x{rng.random()}", method=rng.choice(["GET", "POST", "PUT"]))
    settled = series()
    for i in range(300):
        method = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(8))
        client.open(rng.choice(["/api/ask", f"/random/{i}", "/api/documents"]), method=method)
    assert series() <= settled + 3  # at most "other" with the statuses it met, not 300
    assert any(n.startswith("qa_http_requests_total") and 'method="other"' in n
               for n in _samples(client))


def test_metrics_report_the_index_and_the_build(client, app):
    health = client.get("/api/health").get_json()
    samples = _samples(client)
    assert samples['qa_index_passages{collection="default"}'] == health["passages"]
    assert samples['qa_index_documents{collection="default"}'] == health["documents"]
    version = health["index"]["version"]
    assert samples[f'qa_index_info{{collection="default",version="{version}"}}'] == 1
    assert samples['qa_index_built_timestamp_seconds{collection="default"}'] > 1.7e9
    from qa_service import __version__

    assert samples[f'qa_build_info{{model="{FAKE_MODEL}",version="{__version__}"}}'] == 1


# Readiness


def test_ready_when_a_fresh_index_is_loaded(client):
    answer = client.get("/api/ready")
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["status"] == "ready" and body["documents"] == 3 and body["index"]["version"]


def test_not_ready_when_the_corpus_changed_since_the_build(client, corpus):
    (corpus / "flood.txt").write_text("Something else entirely.\n")
    answer = client.get("/api/ready")
    assert answer.status_code == 503
    error = answer.get_json()["error"]
    assert error["code"] == "not_ready" and "stale" in error["message"]
    assert "1 changed" in error["message"]
    assert client.get("/api/health").status_code == 200  # alive, just not ready


def test_readiness_walks_the_corpus_once_an_interval_and_then_sees_the_change(
        built, corpus, monkeypatch):
    from types import SimpleNamespace

    from qa_service import service
    from qa_service.indexing import freshness

    now = [1000.0]  # the clock the staleness answer is kept by, moved by hand
    monkeypatch.setattr(service, "time", SimpleNamespace(monotonic=lambda: now[0]))
    walks = []
    snapshot = freshness.snapshot_corpus
    monkeypatch.setattr(freshness, "snapshot_corpus",
                        lambda *args: walks.append(now[0]) or snapshot(*args))
    client = create_app({"index_dir": built.index_dir, "model": FAKE_MODEL, "TESTING": True,
                         "stale_check_interval": 5}).test_client()
    for _ in range(4):  # a probe a second
        assert client.get("/api/ready").status_code == 200
        now[0] += 1
    assert walks == [1000.0]
    (corpus / "flood.txt").write_text("Something else entirely.\n")
    assert client.get("/api/ready").status_code == 200  # the answer of 1000.0 still
    now[0] += 1
    answer = client.get("/api/ready")
    assert answer.status_code == 503 and "1 changed" in answer.get_json()["error"]["message"]
    assert walks == [1000.0, 1005.0]


def test_not_ready_when_the_index_is_corrupt(client, app):
    service = app.extensions["qa"].current
    path = service.index.path / "passages.sqlite"
    service.index.passages.close()
    path.write_bytes(b"not a database" * 100)
    answer = client.get("/api/ready")
    assert answer.status_code == 503
    error = answer.get_json()["error"]
    assert error["code"] == "not_ready" and "corrupt" in error["message"]


def test_not_ready_when_no_index_is_loaded(client, app):
    app.extensions["qa"].current = None
    answer = client.get("/api/ready")
    assert answer.status_code == 503
    assert "no index is loaded" in answer.get_json()["error"]["message"]


# Document pages


def test_documents_come_a_page_at_a_time_with_the_total(client):
    every = client.get("/api/documents").get_json()
    assert every["total"] == 3 and len(every["documents"]) == 3
    assert (every["limit"], every["offset"]) == (100, 0)
    ids = [d["doc_id"] for d in every["documents"]]
    pages = [client.get(f"/api/documents?limit=2&offset={o}").get_json() for o in (0, 2, 4)]
    assert [[d["doc_id"] for d in p["documents"]] for p in pages] == [ids[:2], ids[2:], []]
    assert {p["total"] for p in pages} == {3}


@pytest.mark.parametrize("query", ["limit=0", "limit=1001", "limit=-1", "limit=abc",
                                   "limit=", "offset=-1", "offset=1.5", "limit=1e3",
                                   # not ASCII digits (Arabic-Indic, full width), and an
                                   # offset past SQLite's largest integer (a 500 before)
                                   "limit=\u0661\u0660", "limit=\uff15",
                                   "offset=9223372036854775808", "offset=" + "9" * 400])
def test_a_bad_limit_or_offset_is_a_json_400(client, query):
    answer = client.get(f"/api/documents?{query}")
    assert answer.status_code == 400
    error = answer.get_json()["error"]
    assert error["code"] == "invalid_input" and query.split("=")[0] in error["message"]


def test_the_documents_command_prints_every_document_with_the_total(runner, built):
    result = runner.invoke(cli, ["documents", "--json", "--index-dir", str(built.index_dir)])
    assert result.exit_code == 0
    body = json.loads(result.stdout)
    assert body["total"] == len(body["documents"]) == 3


# The chat command


def test_chat_help_lists_the_commands_and_searches_nothing(runner, built, monkeypatch):
    from qa_service.service import Service

    asked = []
    monkeypatch.setattr(Service, "ask", lambda self, body: asked.append(body))
    result = runner.invoke(cli, ["chat", "--index-dir", str(built.index_dir)],
                           input="/help\n/quit\n")
    assert result.exit_code == 0
    for command in ("/new", "/quit", "/help"):
        assert command in result.stdout.split("Commands:")[1]
    assert asked == []
