"""Hostile request bodies: every answer is a 2xx or a 4xx with a JSON body, never a 5xx."""

from __future__ import annotations

import pytest

DEEP = 990  # about 2 KB of brackets: Python's parser would recurse past its limit


@pytest.mark.parametrize("raw", [
    "[" * DEEP + "]" * DEEP,
    '{"a":' * DEEP + "1" + "}" * DEEP,
    '{"question": "bridge", "filters": {"where": {"x": ' + "[" * DEEP + "]" * DEEP + "}}}",
    "[" * DEEP,  # unterminated too
], ids=["arrays", "objects", "inside a field", "unterminated"])
def test_json_nested_deeper_than_32_levels_is_a_clear_400(client, raw):
    response = client.post("/api/ask", data=raw, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"] == {
        "code": "invalid_input", "message": "the request body is nested deeper than 32 levels"}


def test_brackets_inside_strings_are_text_not_nesting(client):
    question = "bridge " + "[{" * 100
    response = client.post("/api/ask", json={"question": question})
    assert response.status_code == 200, response.get_json()


def test_json_nested_32_levels_is_read(client):
    raw = '{"question": "bridge", "filters": ' + "[" * 31 + "]" * 31 + "}"
    response = client.post("/api/ask", data=raw, content_type="application/json")
    # Read, then refused for what it says (filters must be an object), not for its depth.
    assert response.status_code == 400
    assert "nested" not in response.get_json()["error"]["message"]


# Against a real server (gunicorn, the whole stack): every body below must get a 2xx or a 4xx
# with a JSON body. Raw text, so that what no JSON library would write can be sent.
def _deep(n: int, inner: str = "1") -> str:
    return '{"question": "bridge", "filters": {"where": {"x": ' + "[" * n + inner + \
        "]" * n + "}}}"


HOSTILE_BODIES: dict[str, bytes | str] = {
    # Nesting
    "deep arrays": "[" * DEEP + "]" * DEEP,
    "deep objects": '{"a":' * DEEP + "1" + "}" * DEEP,
    "deep in a filter": _deep(DEEP),
    "deep unterminated": "[{" * DEEP,
    "deep mixed in history": '{"question": "bridge", "history": ' + '[{"a":' * 500 + "1" +
    "}]" * 500 + "}",
    "33 levels": _deep(31),
    # Numbers
    "top_k 1e308": '{"question": "bridge", "top_k": 1e308}',
    "top_k 1e999": '{"question": "bridge", "top_k": 1e999}',
    "top_k -1e999": '{"question": "bridge", "top_k": -1e999}',
    "top_k -0": '{"question": "bridge", "top_k": -0}',
    "top_k -0.0": '{"question": "bridge", "top_k": -0.0}',
    "top_k true": '{"question": "bridge", "top_k": true}',
    "top_k 5.5": '{"question": "bridge", "top_k": 5.5}',
    "top_k 5.0": '{"question": "bridge", "top_k": 5.0}',
    "top_k a 5000-digit integer": '{"question": "bridge", "top_k": ' + "9" * 5000 + "}",
    "top_k a 4000-digit integer": '{"question": "bridge", "top_k": ' + "9" * 4000 + "}",
    "a where value of 4000 digits": _deep(0, "9" * 4000),
    "a where value 1e999": _deep(0, "1e999"),
    "top_k NaN": '{"question": "bridge", "top_k": NaN}',
    "top_k Infinity": '{"question": "bridge", "top_k": Infinity}',
    "top_k -Infinity": '{"question": "bridge", "top_k": -Infinity}',
    "a where value NaN": _deep(0, "NaN"),
    "a where value Infinity": '{"question": "bridge", "filters": {"where": {"x": Infinity}}}',
    "a date NaN": '{"question": "bridge", "filters": {"date_from": NaN}}',
    "a date 1e308": '{"question": "bridge", "filters": {"date_to": 1e308}}',
    "a date far off": '{"question": "bridge", "filters": {"date_to": "99999999-01-01"}}',
    "a week date": '{"question": "bridge", "filters": {"date_from": "2024-W01"}}',
    "a question NaN": '{"question": NaN}',
    # Duplicate keys
    "duplicate question": '{"question": 1, "question": "bridge"}',
    "duplicate filters": '{"question": "bridge", "filters": {}, "filters": {"sources": 1}}',
    "duplicate where keys": '{"question": "bridge", "filters": {"where": {"x": "a", "x": 1}}}',
    # Lone surrogates in every string field
    "surrogate question": '{"question": "\\ud800"}',
    "surrogate pair reversed": '{"question": "\\udc00\\ud800 bridge"}',
    "surrogate history": '{"question": "bridge", "history": ["\\udfff", "\\ud800 x"]}',
    "surrogate source": '{"question": "bridge", "filters": {"sources": ["\\ud800"]}}',
    "surrogate where key": '{"question": "bridge", "filters": {"where": {"\\ud800": "x"}}}',
    "surrogate where value": '{"question": "bridge", "filters": {"where": {"x": "\\udc00"}}}',
    "surrogate where values": '{"question": "bridge", "filters": {"where": {"x": ["\\udc00"]}}}',
    "surrogate date": '{"question": "bridge", "filters": {"date_from": "\\ud800"}}',
    "surrogate field name": '{"question": "bridge", "\\ud800": 1}',
    "surrogate filter name": '{"question": "bridge", "filters": {"\\ud800": 1}}',
    "surrogate explain": '{"question": "bridge", "explain": "\\ud800"}',
    # Wrong types everywhere
    "question null": '{"question": null}',
    "question number": '{"question": 1}',
    "question list": '{"question": ["bridge"]}',
    "question object": '{"question": {"a": "bridge"}}',
    "question true": '{"question": true}',
    "question a BOM": '{"question": "\\ufeff"}',
    "history string": '{"question": "bridge", "history": "flood"}',
    "history object": '{"question": "bridge", "history": {}}',
    "history numbers": '{"question": "bridge", "history": [1, null, []]}',
    "history 11 entries": '{"question": "bridge", "history": ' + str(["x"] * 11).replace(
        "'", '"') + "}",
    "filters list": '{"question": "bridge", "filters": []}',
    "filters string": '{"question": "bridge", "filters": "RT"}',
    "filters.sources object": '{"question": "bridge", "filters": {"sources": {}}}',
    "filters.sources nested": '{"question": "bridge", "filters": {"sources": [[]]}}',
    "filters.sources null item": '{"question": "bridge", "filters": {"sources": [null]}}',
    "filters.where list": '{"question": "bridge", "filters": {"where": []}}',
    "filters.where object value": '{"question": "bridge", "filters": {"where": {"x": {}}}}',
    "filters.where range junk": '{"question": "bridge", "filters": {"where": '
                                '{"x": {"from": [], "to": {}}}}}',
    "filters.where nested list": '{"question": "bridge", "filters": {"where": {"x": [[]]}}}',
    "filters.where true": '{"question": "bridge", "filters": {"where": {"x": true}}}',
    "date list": '{"question": "bridge", "filters": {"date_from": []}}',
    "explain string": '{"question": "bridge", "explain": "yes"}',
    "explain null": '{"question": "bridge", "explain": null}',
    # Not an object, or no body
    "empty body": "",
    "whitespace body": " \n\t ",
    "null": "null",
    "a list": '["bridge"]',
    "a number": "1",
    "a string": '"bridge"',
    "true": "true",
    "truncated": '{"question": "bri',
    "trailing junk": '{"question": "bridge"} {}',
    "a BOM before the JSON": b'\xef\xbb\xbf{"question": "bridge"}',
    "invalid UTF-8": b'{"question": "\xff\xfe bridge"}',
    "UTF-16": '{"question": "bridge"}'.encode("utf-16"),
    "a NUL byte": '{"question": "bri\\u0000dge"}',
    # Very long strings
    "a 200 KB question": '{"question": "' + "b" * 200_000 + '"}',
    "a 200 KB history entry": '{"question": "bridge", "history": ["' + "b" * 200_000 + '"]}',
    "a 100 KB field name": '{"question": "bridge", "' + "k" * 100_000 + '": 1}',
    "a 100 KB where key": '{"question": "bridge", "filters": {"where": {"' + "k" * 100_000 +
    '": "x"}}}',
    "a 100 KB source": '{"question": "bridge", "filters": {"sources": ["' + "s" * 100_000 +
    '"]}}',
    "over the size limit": '{"question": "' + "b" * 300_000 + '"}',
    "20000 where fields": '{"question": "bridge", "filters": {"where": {' + ", ".join(
        f'"f{i}": "x"' for i in range(20_000)) + "}}}",
    "20000 sources": '{"question": "bridge", "filters": {"sources": [' + ", ".join(
        ['"s"'] * 20_000) + "]}}",
}


def post_raw(url: str, body: bytes | str, content_type: str = "application/json"):
    """POST raw bytes; return (status, parsed JSON body)."""
    import http.client
    import json
    from urllib.parse import urlsplit

    data = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        conn.request("POST", parts.path, body=data, headers={"Content-Type": content_type})
        response = conn.getresponse()
        raw = response.read()
    finally:
        conn.close()
    assert response.status < 500, (response.status, raw[:300])
    assert response.getheader("Content-Type", "").startswith("application/json"), raw[:300]
    payload = json.loads(raw.decode("utf-8"))  # valid UTF-8 and valid JSON
    if response.status >= 400:
        assert set(payload["error"]) == {"code", "message"} and payload["error"]["message"]
        # A message quotes what it refuses, but never echoes a 100 KB body back.
        assert len(payload["error"]["message"]) < 1000, payload["error"]["message"][:200]
    return response.status, payload


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    from tests.conftest import FAKE_MODEL, LiveServer, fake_index

    settings = fake_index(tmp_path_factory.mktemp("hostile-bodies"))
    server = LiveServer(settings.index_dir, env={"QA_MODEL": FAKE_MODEL})
    yield server
    assert "Traceback" not in server.log(), server.log()[-3000:]
    server.stop()


@pytest.mark.parametrize("body", HOSTILE_BODIES.values(), ids=HOSTILE_BODIES.keys())
def test_a_hostile_body_gets_a_2xx_or_a_4xx_never_a_5xx(live, body):
    post_raw(live.url + "/api/ask", body)


@pytest.mark.parametrize("content_type", ["text/plain", "application/json; charset=latin-1",
                                          "application/x-www-form-urlencoded", ""])
def test_other_content_types_are_a_4xx(live, content_type):
    status, _ = post_raw(live.url + "/api/ask", '{"question": "bridge"}', content_type)
    assert 400 <= status < 500 or status == 200


@pytest.mark.parametrize("name, status", [
    ("deep arrays", 400), ("deep objects", 400), ("deep in a filter", 400),
    ("surrogate question", 200), ("surrogate history", 200), ("surrogate source", 400),
    ("surrogate where key", 400), ("surrogate where value", 400), ("question a BOM", 400),
])
def test_what_the_server_answers_to_the_worst_bodies(live, name, status):
    assert post_raw(live.url + "/api/ask", HOSTILE_BODIES[name])[0] == status


REAL_CASES = ["deep arrays", "deep objects", "deep in a filter", "deep mixed in history",
              "surrogate question", "surrogate pair reversed", "surrogate history",
              "surrogate source", "surrogate where key", "surrogate where values",
              "a NUL byte", "top_k NaN", "question a BOM"]


@pytest.mark.model
@pytest.mark.parametrize("name", REAL_CASES)
def test_the_real_model_server_never_answers_a_hostile_body_with_a_5xx(real_server, name):
    post_raw(real_server.url + "/api/ask", HOSTILE_BODIES[name])


@pytest.mark.parametrize("path", ["/api/health", "/api/ready", "/api/documents",
                                  "/api/openapi.json", "/api/documents/flood.txt"])
def test_a_json_body_on_a_get_endpoint_is_never_a_5xx(live, path):
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(live.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request("GET", path, body="[" * DEEP, headers={"Content-Type": "application/json"})
        assert conn.getresponse().status < 500
    finally:
        conn.close()
