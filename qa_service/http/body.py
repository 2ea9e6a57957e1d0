"""Read a request's JSON body: valid JSON, nested no deeper than MAX_DEPTH levels."""

from __future__ import annotations

import re

from flask import Request
from werkzeug.exceptions import BadRequest, UnsupportedMediaType

from qa_service.errors import InvalidInput

MAX_DEPTH = 32
# A string (to its closing quote, or the end of an unterminated one, so that the scan stays
# linear) or one bracket. Brackets inside strings are text, not nesting.
_TOKEN_RE = re.compile(rb'"(?:[^"\\]++|\\.)*+(?:"|\Z)|[\[\]{}]', re.DOTALL)


def json_body(request: Request):
    """Return the request's JSON body, or raise a 4xx error that says what is wrong."""
    if not request.is_json:
        raise UnsupportedMediaType("send the request as Content-Type: application/json")
    # Python's parser recurses once per level: a 2 KB body of 1000 brackets would end in a
    # RecursionError (a 500), so the depth is counted before parsing.
    if nesting_depth(request.get_data(cache=True)) > MAX_DEPTH:
        raise _too_deep()
    try:
        return request.get_json()
    except BadRequest:
        raise BadRequest("the request body is not valid JSON") from None
    except RecursionError:  # not reached after the count; never a 500 if it were
        raise _too_deep() from None


def nesting_depth(data: bytes) -> int:
    """Return how deep the arrays and objects of JSON `data` nest (stopping past MAX_DEPTH)."""
    depth = deepest = 0
    for match in _TOKEN_RE.finditer(data):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
            if depth > MAX_DEPTH:  # enough to refuse: no need to read on
                break
        elif token in (b"]", b"}"):
            depth -= 1
    return deepest


def _too_deep() -> InvalidInput:
    return InvalidInput(f"the request body is nested deeper than {MAX_DEPTH} levels")
