"""Property-based tests of the API over its own OpenAPI document (schemathesis, in-process).

Schemathesis generates requests that fit the schema and requests that break it; every
response must be one the document describes, never a 5xx, and every error a JSON body
with a code and a message.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, assume, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance

from qa_service.http import create_app
from qa_service.text import normalize
from tests.conftest import FAKE_MODEL

OPERATIONS = [("/api/ask", "POST"), ("/api/health", "GET"), ("/api/ready", "GET"),
              ("/api/documents", "GET"),
              ("/api/documents/{doc_id}", "GET"), ("/api/openapi.json", "GET"),
              ("/api/documents", "POST"), ("/api/documents/{doc_id}", "PUT"),
              ("/api/documents/{doc_id}", "DELETE"), ("/api/jobs/{job_id}", "GET"),
              ("/api/collections", "GET"), ("/api/writes", "GET")]
WRITES = {op for op in OPERATIONS if op[1] != "GET" and op[0] != "/api/ask"} | {
    ("/api/jobs/{job_id}", "GET"), ("/api/writes", "GET")}
ADMIN = {"Authorization": "Bearer admin-key"}
# A bounded, repeatable run: a few seconds in all, the same examples every time.
EXAMPLES = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))


@pytest.fixture
def api_schema(built):
    # Writes land in the test's copy of the corpus.
    app = create_app({"index_dir": built.index_dir, "corpus": built.corpus,
                      "model": FAKE_MODEL, "admin_keys": "admin-key"})
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app)


def error_is_json_with_code_and_message(ctx, response, case):
    """Check that a 4xx or 5xx response is the project's JSON error body."""
    if response.status_code < 400:
        return None
    assert response.headers.get("content-type", [""])[0].startswith("application/json"), \
        f"{response.status_code} is not JSON"
    error = response.json()["error"]
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    assert "Traceback" not in response.text
    return None


def test_every_operation_of_the_document_is_tested(api_schema):
    documented = {(path, method.upper()) for path, methods in api_schema.raw_schema[
        "paths"].items() for method in methods}
    assert documented == set(OPERATIONS)


# Only /api/ask and /api/documents (limit, offset) take input that can break their
# schema: the others have no negatives.
@pytest.mark.parametrize("path, method, mode", [
    *((path, method, GenerationMode.POSITIVE) for path, method in OPERATIONS),
    ("/api/ask", "POST", GenerationMode.NEGATIVE),
    ("/api/documents", "GET", GenerationMode.NEGATIVE),
    ("/api/documents", "POST", GenerationMode.NEGATIVE),
])
def test_the_api_honours_its_openapi_document(api_schema, path, method, mode):
    @given(case=api_schema[path][method].as_strategy(mode))
    @EXAMPLES
    def check(case):
        filters = case.body.get("filters") if isinstance(case.body, dict) else None
        question = case.body.get("question") if isinstance(case.body, dict) else None
        if mode == GenerationMode.POSITIVE and isinstance(question, str):
            # "Not only white space" by Python's reckoning (\x1c is white space there, not
            # in a JSON schema's \S) and not only invisible characters: a 400 of its own.
            assume(question.strip() and normalize(question))
        if mode == GenerationMode.POSITIVE and isinstance(filters, dict):
            # Rules a JSON schema cannot state, each rejected with a 400 of its own: the
            # range's order, and filter values that name what the index holds.
            assume(filters.get("date_from", "") <= filters.get("date_to", "9999"))
            assume(not filters.get("sources") and not filters.get("where"))
        if mode == GenerationMode.POSITIVE and path == "/api/documents" and case.query:
            # The same rules for the listing's filters, as query parameters.
            query = case.query
            assume(query.get("date_from", "") <= query.get("date_to", "9999"))
            assume(not query.get("source") and not query.get("where"))
        write = (path, method) in WRITES
        # A write's schema-valid body may still be refused with a 400 of its own: an
        # empty file, a name with a path or an unsupported suffix, a document that does
        # not exist. Every answer must still be documented, JSON, and never a 5xx.
        case.call_and_validate(
            headers=ADMIN if write else None,
            additional_checks=[error_is_json_with_code_and_message],
            excluded_checks=[positive_data_acceptance] if write else None)

    check()
