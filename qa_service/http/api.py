"""The JSON API blueprint, under /api."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify, request
from werkzeug.exceptions import BadRequest, UnsupportedMediaType

from qa_service.http.openapi import spec
from qa_service.service import Service

log = logging.getLogger(__name__)

bp = Blueprint("api", __name__, url_prefix="/api")


def _service() -> Service:
    # Read once per request: the whole request then uses one index, even across a swap.
    return current_app.extensions["qa"].current


@bp.post("/ask")
def ask():
    """Answer a question with ranked, attributed passages."""
    if not request.is_json:
        raise UnsupportedMediaType("send the request as Content-Type: application/json")
    try:
        body = request.get_json()
    except BadRequest:
        raise BadRequest("the request body is not valid JSON") from None
    return jsonify(_service().ask(body).to_dict())


@bp.get("/health")
def health():
    """Say that the service is up and which index it serves."""
    return jsonify(_service().health())


@bp.get("/documents")
def documents():
    """List the indexed documents with their metadata and paragraph counts."""
    return jsonify({"documents": _service().documents()})


@bp.get("/documents/<path:doc_id>")
def document(doc_id: str):
    """Return one cleaned document with its numbered paragraphs."""
    return jsonify(_service().document(doc_id))


@bp.get("/openapi.json")
def openapi():
    """Describe this API in OpenAPI 3.1."""
    return jsonify(spec())
