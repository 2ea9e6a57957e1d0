"""What a question request may hold: the limits every face enforces and OpenAPI states."""

from __future__ import annotations

from qa_service.errors import InvalidInput
from qa_service.text import normalize

MAX_QUESTION_CHARS = 1000
MAX_HISTORY = 10
MAX_TOP_K = 20


def validate(question, history, top_k) -> None:
    """Reject a request the service cannot answer, with a message that says why."""
    if not isinstance(question, str) or not question.strip():
        raise InvalidInput("question must be a non-empty string")
    if not normalize(question):  # e.g. only a BOM or zero-width spaces: an empty query
        raise InvalidInput("question has no visible characters")
    if len(question.strip()) > MAX_QUESTION_CHARS:
        raise InvalidInput(f"question is longer than {MAX_QUESTION_CHARS} characters")
    if not isinstance(history, list | tuple) or not all(isinstance(h, str) for h in history):
        raise InvalidInput("history must be a list of strings")
    if len(history) > MAX_HISTORY:
        raise InvalidInput(f"history holds more than {MAX_HISTORY} questions")
    if any(len(h) > MAX_QUESTION_CHARS for h in history):
        raise InvalidInput(f"a history entry is longer than {MAX_QUESTION_CHARS} characters")
    if isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= MAX_TOP_K:
        raise InvalidInput(f"top_k must be an integer from 1 to {MAX_TOP_K}")
