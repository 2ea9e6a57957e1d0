"""The JSON API through Flask's test client: contract, errors, OpenAPI, headers."""

from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_spec
from referencing import Registry, Resource

from qa_service.cli import cli
from qa_service.http import CONTENT_SECURITY_POLICY, create_app
from qa_service.http.openapi import spec
from qa_service.search.signals import SIGNALS


def _validator(path: str, method: str, status: int) -> Draft202012Validator:
    document = spec()
    schema = document["paths"][path][method]["responses"][str(status)]["content"][
        "application/json"]["schema"]
    # OpenAPI 3.1 schemas are JSON Schema 2020-12; refs point into the whole document.
    resource = Resource.from_contents(
        {**document, "$schema": "https://json-schema.org/draft/2020-12/schema"})
    registry = Registry().with_resource("urn:openapi", resource)
    return Draft202012Validator({"$ref": "urn:openapi" + schema["$ref"]}, registry=registry)


def assert_matches(response, path: str, method: str = "get") -> None:
    """Validate a real response against the OpenAPI document's schema for it."""
    assert response.mimetype == "application/json"
    _validator(path, method, response.status_code).validate(response.get_json())


def test_the_openapi_document_is_valid_openapi_3_1(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    validate_spec(response.get_json())
    assert response.get_json()["openapi"].startswith("3.1")


def test_ask_answers_with_the_contract(client):
    response = client.post("/api/ask", json={"question": "Who is the museum director?",
                                             "top_k": 2})
    assert response.status_code == 200
    assert_matches(response, "/api/ask", "post")
    body = response.get_json()
    assert list(body) == ["question", "query", "answerable", "confidence", "took_ms", "passages",
                          "index"]
    assert 0.0 <= body["confidence"] <= 1.0
    assert body["index"] == client.get("/api/health").get_json()["index"]["version"]
    assert len(body["passages"]) == 2
    assert body["passages"][0]["doc_id"] == "more/museum.html"


def test_ask_equals_the_cli_json_output(client, runner):
    question = "When did engineers inspect the Riverside bridge?"
    api = client.post("/api/ask", json={"question": question, "history": ["What flooded?"],
                                        "filters": {"sources": ["Northport Gazette"]}})
    cli_result = runner.invoke(cli, ["ask", "--json", question, "--history", "What flooded?",
                                     "--source", "Northport Gazette"])
    assert cli_result.exit_code == 0, cli_result.output
    a, b = api.get_json(), json.loads(cli_result.stdout)
    a.pop("took_ms"), b.pop("took_ms")
    assert a == b


def test_filters_and_history_are_applied(client):
    body = client.post("/api/ask", json={
        "question": "What happened?", "history": ["Tell me about the harvest"],
        "filters": {"date_from": "2022-01-01", "date_to": "2022-12-31"}, "top_k": 20,
    }).get_json()
    assert {p["doc_id"] for p in body["passages"]} == {"more/orchard.md"}
    assert "harvest" in body["query"]


@pytest.mark.parametrize("payload, message", [
    ({}, "question is required"),
    ({"question": ""}, "non-empty"),
    ({"question": "   "}, "non-empty"),
    ({"question": 42}, "non-empty string"),
    ({"question": None}, "non-empty string"),
    ({"question": "x" * 1001}, "longer than 1000"),
    ({"question": "ok", "history": "not a list"}, "list of strings"),
    ({"question": "ok", "history": [None]}, "list of strings"),
    ({"question": "ok", "history": ["q"] * 11}, "more than 10"),
    ({"question": "ok", "history": ["x" * 1001]}, "longer than 1000"),
    ({"question": "ok", "top_k": 0}, "top_k"),
    ({"question": "ok", "top_k": 21}, "top_k"),
    ({"question": "ok", "top_k": "5"}, "top_k"),
    ({"question": "ok", "top_k": 2.5}, "top_k"),
    ({"question": "ok", "top_k": True}, "top_k"),
    ({"question": "ok", "filters": {"date_from": "yesterday"}}, "YYYY-MM-DD"),
    ({"question": "ok", "filters": []}, "must be an object"),
    ({"question": "ok", "topk": 3}, "unknown field 'topk'"),
    ([], "JSON object"),
    ("just a string", "JSON object"),
])
def test_bad_fields_are_400_with_a_json_error(client, payload, message):
    response = client.post("/api/ask", json=payload)
    assert response.status_code == 400
    assert_matches(response, "/api/ask", "post")
    assert response.get_json()["error"]["code"] == "invalid_input"
    assert message in response.get_json()["error"]["message"]


def test_a_question_of_1000_characters_after_trimming_is_accepted(client):
    response = client.post("/api/ask", json={"question": "  " + "bridge " * 142 + "x  "})
    assert response.status_code == 200


@pytest.mark.parametrize("data, content_type, status", [
    ("{not json", "application/json", 400),
    ('{"question": "ok"', "application/json", 400),
    (b"\xff\xfe\x00", "application/json", 400),
    ('{"question": "ok"}', "text/plain", 415),
    ("question=ok", "application/x-www-form-urlencoded", 415),
    ('{"question": "ok"}', None, 415),
])
def test_malformed_bodies_get_json_errors(client, data, content_type, status):
    response = client.post("/api/ask", data=data, content_type=content_type)
    assert response.status_code == status
    assert_matches(response, "/api/ask", "post")


def test_an_oversized_body_is_413(client):
    response = client.post("/api/ask", data=json.dumps({"question": "x" * 300_000}),
                           content_type="application/json")
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "request_entity_too_large"


def test_unknown_path_and_wrong_method_are_json(client):
    missing = client.get("/api/nothing-here")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"
    wrong = client.get("/api/ask")
    assert wrong.status_code == 405 and "POST" in wrong.headers["Allow"]
    assert wrong.get_json()["error"]["code"] == "method_not_allowed"
    assert client.delete("/api/health").status_code == 405


def test_health_names_the_index_served(client, built):
    response = client.get("/api/health")
    assert_matches(response, "/api/health")
    body = response.get_json()
    assert body["status"] == "ok" and body["documents"] == 3 and body["passages"] == 8
    assert body["model"] == "hash:256"
    assert body["index"]["version"].startswith("v-") and len(body["index"]["fingerprint"]) == 64


def test_documents_list_and_one_document_in_context(client):
    listing = client.get("/api/documents")
    assert_matches(listing, "/api/documents")
    docs = {d["doc_id"]: d for d in listing.get_json()["documents"]}
    assert docs["flood.txt"]["paragraph_count"] == 3
    assert docs["flood.txt"]["source"] == "Northport Gazette"
    one = client.get("/api/documents/more/museum.html")
    assert_matches(one, "/api/documents/{doc_id}")
    body = one.get_json()
    assert [p["paragraph"] for p in body["paragraphs"]] == [1, 2, 3]
    assert body["paragraphs"][0]["text"].startswith("The Harbour Museum reopened")


@pytest.mark.parametrize("query, found", [
    ("source=northport%20gazette", ["flood.txt"]),  # case-insensitive
    ("source=Northport%20Gazette&source=City%20Arts%20Weekly", ["flood.txt", "more/museum.html"]),
    ("date_from=2022-01-01", ["more/museum.html", "more/orchard.md"]),
    ("date_from=2021-01-01&date_to=2022-12-31", ["flood.txt", "more/orchard.md"]),
    ("where=author%3DJane%20Example", ["flood.txt"]),
    ("where=tags%3Dtransport&where=tags%3Dflood", ["flood.txt"]),  # any of a field's values
    ("where=date%3E%3D2022-01-01&where=date%3C%3D2022-12-31", ["more/orchard.md"]),
    ("source=Northport%20Gazette&date_from=2022-01-01", []),  # all of them: none
])
def test_the_documents_listing_filters_as_ask_does(client, query, found):
    response = client.get(f"/api/documents?{query}")
    assert_matches(response, "/api/documents")
    body = response.get_json()
    assert [d["doc_id"] for d in body["documents"]] == found
    assert body["total"] == len(found)  # how many match, not how many the index holds
    assert "facets" not in body


def test_a_filtered_listing_is_paged_over_what_matches(client):
    first = client.get("/api/documents?date_from=2021-01-01&limit=1").get_json()
    second = client.get("/api/documents?date_from=2021-01-01&limit=1&offset=1").get_json()
    assert first["total"] == second["total"] == 3
    assert [d["doc_id"] for d in first["documents"] + second["documents"]] == [
        "flood.txt", "more/museum.html"]


def test_the_documents_listing_gives_its_facets_when_asked(client):
    response = client.get("/api/documents?facets=true&limit=1")
    assert_matches(response, "/api/documents")
    body = response.get_json()
    assert len(body["documents"]) == 1 and body["total"] == 3
    facets = body["facets"]
    assert {s["source"]: s["documents"] for s in facets["sources"]} == {
        "Northport Gazette": 1, "City Arts Weekly": 1, "corpus": 1}
    assert facets["sources_total"] == 3
    assert facets["dates"] == {"earliest": "2021-03-09", "latest": "2023-05-12"}
    assert {f["field"]: f["values"] for f in facets["fields"]} == {
        "author": ["Jane Example"], "tags": ["flood", "transport"]}
    # The whole index's facets, whatever the filters: choices to widen a search with.
    narrow = client.get("/api/documents?facets=1&source=corpus").get_json()
    assert narrow["total"] == 1 and narrow["facets"] == facets


@pytest.mark.parametrize("query, message", [
    ("source=nobody", "no document has source 'nobody'; its values are: City Arts Weekly"),
    ("source=", "source must not be empty"),
    ("where=bogus%3Dx", "no document has a field 'bogus'; the fields are: doc_id"),
    ("where=author", "where 'author': expected FIELD=VALUE"),
    ("where=tags%3Dflood&where=tags%3E%3D2020-01-01", "give values or a date range, not both"),
    ("where=date%3E%3DJune", "where.date.from must be a date as YYYY-MM-DD"),
    ("date_from=2022-02-30", "date_from must be a date as YYYY-MM-DD"),
    ("date_from=2023-01-01&date_to=2022-01-01", "date_from is after date_to"),
    ("sources=RT", "unknown parameter 'sources': expected limit, offset, source"),
    ("facets=maybe", "facets must be true or false"),
    ("limit=0", "limit must be an integer from 1 to 1000"),
])
def test_a_bad_documents_filter_is_a_400_that_says_why(client, query, message):
    response = client.get(f"/api/documents?{query}")
    assert response.status_code == 400
    assert_matches(response, "/api/documents")
    error = response.get_json()["error"]
    assert error["code"] == "invalid_input" and message in error["message"], error


@pytest.mark.parametrize("path", [
    "/api/documents/nothing.txt",
    "/api/documents/../flood.txt",
    "/api/documents/..%2f..%2fetc%2fpasswd",
    "/api/documents/%2Fetc%2Fpasswd",
    "/api/documents//etc/passwd",
    "/api/documents/more%2F..%2F..%2Fsources.toml",
    "/api/documents/%2e%2e/%2e%2e/etc/passwd",
    "/api/documents/more/../flood.txt",
    "/api/documents/./flood.txt",
    "/api/documents/..%5C..%5Cwindows%5Cwin.ini",
    "/api/documents/C:%5Cwindows",
    "/api/documents/flood.txt%00.html",
    "/api/documents/%ED%A0%80",
])
def test_unknown_or_escaping_document_ids_are_404(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("path", ["/", "/api/health", "/api/nothing", "/static/chat.js",
                                  "/documents/flood.txt", "/documents"])
def test_security_headers_on_every_response(client, path):
    response = client.get(path)
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_cors_is_off_by_default(client):
    response = client.post("/api/ask", json={"question": "bridge"},
                           headers={"Origin": "https://elsewhere.example"})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_cors_allows_only_the_configured_origins(built):
    app = create_app({"index_dir": built.index_dir, "model": "hash:256",
                      "cors_origins": "https://ok.example, https://also.example"})
    client = app.test_client()
    ok = client.options("/api/ask", headers={"Origin": "https://ok.example",
                                             "Access-Control-Request-Method": "POST"})
    assert ok.headers["Access-Control-Allow-Origin"] == "https://ok.example"
    other = client.post("/api/ask", json={"question": "bridge"},
                        headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


def test_an_unexpected_error_is_a_json_500_without_details(client, app, monkeypatch):
    def broken(body):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(app.extensions["qa"].current, "ask", broken)
    response = client.post("/api/ask", json={"question": "bridge"})
    assert response.status_code == 500
    assert response.get_json() == {"error": {"code": "internal_error",
                                             "message": "internal error"}}
    assert b"secret" not in response.data and b"Traceback" not in response.data


def test_pages_carry_no_inline_script(client):
    import re

    for path in ("/", "/documents/flood.txt", "/documents"):
        html = client.get(path).get_data(as_text=True)
        assert re.findall(r"<script(?![^>]*\bsrc=)", html) == []
        assert not re.search(r"\son[a-z]+=", html)
        assert "http://" not in html and "https://" not in html  # no external assets


def test_the_documents_list_is_a_page_and_its_slash_leads_there(client):
    page = client.get("/documents")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "/static/archive.js" in page.get_data(as_text=True)
    slash = client.get("/documents/")
    assert slash.status_code == 308 and slash.headers["Location"] == "/documents"


def test_the_schema_check_rejects_a_body_that_breaks_the_contract():
    validator = _validator("/api/ask", "post", 200)
    good = {"question": "q", "query": "q", "answerable": True, "confidence": 0.9,
            "took_ms": 1.0, "passages": [], "index": "v-1"}
    assert validator.is_valid(good)
    assert not validator.is_valid({**good, "answerable": "yes"})
    assert not validator.is_valid({**good, "confidence": 1.5})
    assert not validator.is_valid({k: v for k, v in good.items() if k != "query"})
    passage = {"id": "a", "rank": 0, "score": 1.0, "text": "t", "highlight": "t", "doc_id": "d",
               "title": "t", "source": "s", "date": "June 5", "paragraph": 1, "url": None}
    assert not validator.is_valid({**good, "passages": [passage]})


def test_explain_adds_how_each_passage_ranked(client):
    response = client.post("/api/ask", json={"question": "Who is the museum director?",
                                             "explain": True, "top_k": 3})
    assert_matches(response, "/api/ask", "post")
    top = response.get_json()["passages"][0]
    e = top["explain"]
    assert e["signals"]["lexical"]["rank"] == 1 and "museum" in e["matched_terms"]
    assert list(e["signals"]) == [s.name for s in SIGNALS]
    assert e["score"] == top["score"] and e["candidates"] >= 3
    plain = client.post("/api/ask", json={"question": "Who is the museum director?"})
    assert "explain" not in plain.get_json()["passages"][0]
    bad = client.post("/api/ask", json={"question": "x", "explain": "yes"})
    assert bad.status_code == 400 and "explain" in bad.get_json()["error"]["message"]


def test_sources_list_each_report_in_rank_order_when_there_are_several(client):
    body = client.post("/api/ask", json={"question": "bridge museum harvest",
                                         "top_k": 8}).get_json()
    assert [s["doc_id"] for s in body["sources"]] == list(dict.fromkeys(
        p["doc_id"] for p in body["passages"]))
    ranks = sorted(r for s in body["sources"] for r in s["ranks"])
    assert ranks == list(range(1, 9))
    single = client.post("/api/ask", json={"question": "bridge", "top_k": 3,
                                           "filters": {"sources": ["Northport Gazette"]}})
    assert "sources" not in single.get_json()


def _limited_client(built, limit="2/minute"):
    return create_app({"index_dir": built.index_dir, "model": "hash:256",
                       "rate_limit": limit}).test_client()


def test_rate_limiting_is_off_by_default(client):
    statuses = {client.post("/api/ask", json={"question": "bridge"}).status_code
                for _ in range(30)}
    assert statuses == {200}


def test_a_client_over_the_rate_limit_gets_429_json(built):
    client = _limited_client(built)
    for _ in range(2):
        assert client.post("/api/ask", json={"question": "bridge"}).status_code == 200
    response = client.post("/api/ask", json={"question": "bridge"})
    assert response.status_code == 429
    assert_matches(response, "/api/ask", "post")
    error = response.get_json()["error"]
    assert error["code"] == "too_many_requests" and "2 per 1 minute" in error["message"]
    assert int(response.headers["Retry-After"]) > 0
    assert client.get("/api/documents").status_code == 429  # one budget for the whole API
    # Another client has its own budget; health checks and pages are never limited.
    other = client.post("/api/ask", json={"question": "bridge"},
                        environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other.status_code == 200
    assert client.get("/api/health").status_code == 200
    assert client.get("/").status_code == 200


def test_the_rate_limit_is_read_from_the_environment(built, monkeypatch):
    monkeypatch.setenv("QA_RATE_LIMIT", "1/hour")
    client = create_app({"index_dir": built.index_dir, "model": "hash:256"}).test_client()
    assert client.get("/api/documents").status_code == 200
    assert client.get("/api/documents").status_code == 429


def test_a_malformed_rate_limit_is_a_clear_error(built):
    from qa_service.errors import InvalidInput

    with pytest.raises(InvalidInput, match="rate_limit must look like"):
        _limited_client(built, "lots")


def test_debug_mode_stays_off_even_when_flask_debug_is_set(built, monkeypatch):
    monkeypatch.setenv("FLASK_DEBUG", "1")
    app = create_app({"index_dir": built.index_dir, "model": "hash:256"})
    assert app.debug is False

    from qa_service.service import Service

    def broken(self, doc_id):
        raise KeyError("secret internal detail")

    monkeypatch.setattr(Service, "document", broken)
    response = app.test_client().get("/api/documents/flood.txt")
    assert response.status_code == 500
    assert response.get_json() == {"error": {"code": "internal_error",
                                             "message": "internal error"}}
    assert b"secret" not in response.data and b"Traceback" not in response.data


HOSTILE = {
    "control characters": "bridge \x01\x02\x1b[31m\x7f flood",
    "NUL": "bridge\x00flood",
    "right-to-left marks": "\u202ebridge\u200f \u200e flood \u2066x\u2069",
    "markup": "<script>alert(1)</script><img src=x onerror=alert(2)> bridge",
    "FTS5 syntax": 'bridge" OR NEAR( * ^ -flood : AND',
    "punctuation only": "?!.,;",
    "zero-width spaces in a word": "bri\u200bdge\u200b",
    "a 1000-character word": "b" * 1000,
    "combining marks": "e\u0301" * 300,
}


@pytest.mark.parametrize("where", ["question", "history"])
@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_text_gets_an_answer_never_an_error(client, text, where):
    body = {"question": text} if where == "question" else {"question": "bridge",
                                                           "history": [text]}
    response = client.post("/api/ask", json=body)
    assert response.status_code == 200, response.get_json()
    assert_matches(response, "/api/ask", "post")


@pytest.mark.parametrize("raw", [
    '{"question": "\\ud800 bridge"}',
    '{"question": "bridge", "history": ["\\udfff\\ud800 flood"]}',
], ids=["question", "history"])
def test_lone_surrogates_in_the_json_get_an_answer(client, raw):
    response = client.post("/api/ask", data=raw, content_type="application/json")
    assert response.status_code == 200, response.get_json()
    assert_matches(response, "/api/ask", "post")
    response.data.decode("utf-8")  # the body stays valid UTF-8
    assert "bridge" in response.get_json()["query"]


@pytest.mark.parametrize("name, address", [
    ("a\nb.txt", "a%0Ab.txt"),
    ("more/x\r\ny.txt", "more/x%0D%0Ay.txt"),
], ids=["newline", "CRLF in a folder"])
def test_a_file_named_with_a_newline_is_cited_and_its_address_opens(corpus, encoder, name,
                                                                     address):
    from qa_service.config import Settings
    from qa_service.indexing import build_index
    from tests.conftest import FAKE_MODEL

    (corpus / name).write_text("The lighthouse keeper counted forty seals on the rocks "
                               "below the lamp on Sunday morning.", "utf-8")
    settings = Settings.from_env(corpus=corpus)
    build_index(settings, encoder)
    client = create_app({"index_dir": settings.index_dir, "model": FAKE_MODEL,
                         "TESTING": True}).test_client()
    asked = client.post("/api/ask", json={"question": "lighthouse keeper seals"}).get_json()
    assert name in [p["doc_id"] for p in asked["passages"]]
    one = client.get(f"/api/documents/{address}")
    assert one.status_code == 200, one.get_json()
    assert one.get_json()["doc_id"] == name
    page = client.get(f"/documents/{address}")
    assert page.status_code == 200 and b"document.js" in page.data


@pytest.mark.parametrize("question", ["\ufeff", "\u200b\u200b\u200b", "\ufeff \u00ad\u2060"],
                         ids=["a BOM", "zero-width spaces", "mixed"])
def test_a_question_of_only_invisible_characters_is_a_clear_400(client, question):
    # Normalised, it is an empty query: it would return passages that answer nothing.
    response = client.post("/api/ask", json={"question": question})
    assert response.status_code == 400
    assert response.get_json()["error"] == {"code": "invalid_input",
                                            "message": "question has no visible characters"}


def test_invisible_characters_only_in_history_are_no_error(client):
    response = client.post("/api/ask", json={"question": "bridge", "history": ["\u200b\ufeff"]})
    assert response.status_code == 200, response.get_json()


@pytest.mark.parametrize("body, message", [
    ({"question": "b" * 100_000}, "question is longer than 1000"),
    ({"question": "bridge", "history": ["b" * 100_000]}, "history entry is longer than 1000"),
], ids=["question", "history"])
def test_a_100k_character_word_is_a_clear_400(client, body, message):
    response = client.post("/api/ask", json=body)
    assert response.status_code == 400
    assert message in response.get_json()["error"]["message"]


@pytest.mark.parametrize("body, message", [
    ('{"question": "bridge", "filters": {"sources": ["\\ud800"]}}',
     "no document has source '?'"),
    ('{"question": "bridge", "filters": {"where": {"tags": ["x\\udc00"]}}}',
     "no document has tags 'x?'"),
])
def test_a_lone_surrogate_in_a_filter_is_a_value_no_document_has(client, body, message):
    response = client.post("/api/ask", data=body, content_type="application/json")
    assert response.status_code == 400
    assert message in response.get_json()["error"]["message"]
