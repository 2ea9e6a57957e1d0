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
