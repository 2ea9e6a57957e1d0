"""The JSON API blueprint, under /api."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify, request

from qa_service.errors import IndexCorrupt, IndexMissing, InvalidInput, NotReady, QAError
from qa_service.http.body import json_body
from qa_service.http.metrics import question_answered
from qa_service.http.openapi import spec
from qa_service.http.schemas import DEFAULT_LIMIT, MAX_LIMIT
from qa_service.search import parse_filters
from qa_service.search.filters import where_of
from qa_service.service import Service

log = logging.getLogger(__name__)

bp = Blueprint("api", __name__, url_prefix="/api")


def _service(name: str | None = None) -> Service:
    """The service of collection `name` (None: the `collection` query parameter, else the
    default). Read once per request: the whole request then uses one index, even across
    a swap."""
    if name is None:
        name = request.args.get("collection")
    return current_app.extensions["qa_collections"].get(name).serving()


def _readable_service() -> Service:
    """The service, once its index has been seen to still read (health and readiness)."""
    service = _service()
    service.index.passages.check_readable()
    return service


@bp.post("/ask")
def ask():
    """Answer a question with ranked, attributed passages."""
    body = json_body(request)
    name = body.pop("collection", None) if isinstance(body, dict) else None
    served = current_app.extensions["qa_collections"]
    name = served.name_of(name)
    answer = _service(name).ask(body)
    question_answered(answer.answerable, name)
    return jsonify(answer.to_dict())


@bp.get("/collections")
def collections():
    """List the collections this server serves, with their size and index version."""
    return jsonify({"collections": current_app.extensions["qa_collections"].summary()})


@bp.get("/health")
def health():
    """Say that the service is up (always 200 but for an unknown collection: a liveness
    check) and which index it serves."""
    current_app.extensions["qa_collections"].name_of(request.args.get("collection"))
    try:
        service = _readable_service()
    except QAError as exc:
        # Up, but answering nothing: a restart would not help, a build will.
        return jsonify({"status": "degraded", "index": "unavailable",
                        "error": exc.to_dict()["error"], "writes": _writes()})
    return jsonify({**service.health(), "writes": _writes()})


def _writes() -> bool:
    """Whether this server takes writes from admin keys (the documents page asks, to
    offer the admin key's form only then)."""
    return bool(current_app.extensions.get("qa_writes"))


@bp.get("/ready")
def ready():
    """Say whether this server can answer: a fresh, readable index is loaded."""
    try:
        service = _readable_service()
        reason = service.stale()
    except IndexMissing as exc:
        raise NotReady(f"not ready: {exc.message}") from None
    except IndexCorrupt as exc:
        raise NotReady(f"not ready: the index is corrupt ({exc.message})") from None
    if reason:
        raise NotReady(f"not ready: the index is stale ({reason}); run `qa-service build`")
    return jsonify({**service.health(), "status": "ready", "writes": _writes()})


# The listing's query parameters; any other is refused, so a typo (`sources=`) is no
# filter silently left out.
LIST_PARAMS = ("limit", "offset", "source", "date_from", "date_to", "where", "facets",
               "collection")


@bp.get("/documents")
def documents():
    """List the indexed documents with their metadata and paragraph counts, a page at a
    time, those that meet the filters when some are given; with `facets`, what they can
    be filtered by."""
    unknown = sorted(set(request.args) - set(LIST_PARAMS))
    if unknown:
        raise InvalidInput(f"unknown parameter {unknown[0][:80]!r}: expected "
                           f"{', '.join(LIST_PARAMS[:-1])} or {LIST_PARAMS[-1]}")
    limit = _count_arg("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    offset = _count_arg("offset", 0, 0, MAX_OFFSET)
    facets = _flag_arg("facets")
    if any(not s.strip() for s in request.args.getlist("source")):
        raise InvalidInput("source must not be empty")
    filters = parse_filters({
        "sources": request.args.getlist("source"),
        "date_from": request.args.get("date_from"), "date_to": request.args.get("date_to"),
        "where": where_of(request.args.getlist("where")),
    }, prefix="")
    service = _service()
    found, total = service.documents(limit, offset, filters)
    body = {"documents": found, "total": total, "limit": limit, "offset": offset}
    if facets:
        body["facets"] = service.facets()
    return jsonify(body)


def _flag_arg(name: str) -> bool:
    """Read a true/false query parameter (absent: false), or raise InvalidInput."""
    raw = request.args.get(name, "false").strip().lower()
    if raw not in ("true", "false", "1", "0"):
        raise InvalidInput(f"{name} must be true or false, got {raw[:40]!r}")
    return raw in ("true", "1")


# The largest integer SQLite stores: an offset past it is refused, not an overflow (500).
MAX_OFFSET = 2**63 - 1


def _count_arg(name: str, default: int, low: int, high: int | None) -> int:
    """Read an integer query parameter within [low, high], or raise InvalidInput."""
    raw = request.args.get(name)
    if raw is None:
        return default
    span = f"from {low} to {high}" if high is not None else f"of {low} or more"
    # ASCII digits only: str.isdigit and int() also take "١٠" and "５" (issue 26). At
    # most 19 of them (MAX_OFFSET's length): int() refuses over 4,300 digits with a
    # ValueError, and anything longer is out of range anyway.
    digits = raw.strip().lstrip("+")
    value = int(digits) if digits.isascii() and digits.isdigit() and len(digits) <= 19 \
        else None
    if value is None or value < low or (high is not None and value > high):
        raise InvalidInput(f"{name} must be an integer {span}, got {raw[:40]!r}")
    return value


@bp.get("/documents/<path:doc_id>")
def document(doc_id: str):
    """Return one cleaned document with its numbered paragraphs."""
    return jsonify(_service().document(doc_id))


@bp.get("/openapi.json")
def openapi():
    """Describe this API in OpenAPI 3.1."""
    return jsonify(spec([c.name for c in current_app.extensions["qa_collections"].found]))
