"""The OpenAPI 3.1 description of the JSON API (served at /api/openapi.json)."""

from __future__ import annotations

from qa_service import __version__
from qa_service.collections import NAME_RE
from qa_service.http.body import MAX_DEPTH
from qa_service.http.openapi_writes import SECURITY_SCHEME, write_paths
from qa_service.http.schemas import DEFAULT_LIMIT, LIST_FILTERS, MAX_LIMIT, SCHEMAS, ref


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict:
    return _json(ref("Error"), description)


# Every API path but /api/health counts against the client's rate limit, when one is set.
_LIMITED = {"429": _error("Too many requests from this client; see Retry-After.")}
_UNAVAILABLE = {"503": _error("The index cannot be read (damaged since it was loaded).")}
# With API keys on (QA_API_KEYS), every operation but /api/health needs one.
_UNAUTHORIZED = {"401": {**_error("API keys are on and the request has no valid key "
                                  "(`Authorization: Bearer <key>`)."),
                         "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}}}}
_KEYED = [{"apiKey": []}, {}]  # a key when keys are on; none when they are off


# /api/health of a server with no readable index: up, but answering 503 until a build.
SCHEMAS["Degraded"] = {
    "type": "object",
    "required": ["status", "index", "error", "writes"],
    "properties": {
        "status": {"type": "string", "enum": ["degraded"]},
        "writes": SCHEMAS["Health"]["properties"]["writes"],
        "index": {"type": "string", "enum": ["unavailable"]},
        "error": SCHEMAS["Error"]["properties"]["error"],
    },
}

SCHEMAS["Liveness"] = {"oneOf": [ref("Health"), ref("Degraded")]}

_NULLABLE = {"type": ["string", "null"]}
SCHEMAS["CollectionList"] = {
    "type": "object",
    "required": ["collections"],
    "properties": {"collections": {"type": "array", "items": {
        "type": "object",
        "required": ["name", "default", "status", "documents", "passages", "model",
                     "version", "built_at"],
        "properties": {
            "name": {"type": "string"},
            "default": {"type": "boolean", "description": "Asked when a request names none."},
            "status": {"type": "string", "enum": ["ok", "unavailable"]},
            "error": {"type": "string", "description": "Why it is unavailable."},
            "documents": {"type": ["integer", "null"]},
            "passages": {"type": ["integer", "null"]},
            "model": _NULLABLE, "version": _NULLABLE, "built_at": _NULLABLE,
        },
    }}},
}

# /api/ready answers what /api/health does, once it has checked the index.
SCHEMAS["Ready"] = {**SCHEMAS["Health"], "properties": {
    **SCHEMAS["Health"]["properties"], "status": {"type": "string", "enum": ["ready"]}}}


def spec(collections: list[str] | None = None) -> dict:
    """Return the OpenAPI document; `collections`: the names a server serves (None: any
    name a collection may have)."""
    document = _reads()
    for path, operations in write_paths().items():
        document["paths"].setdefault(path, {}).update(operations)
    document["components"]["securitySchemes"]["adminKey"] = SECURITY_SCHEME
    name = {"type": "string", "enum": collections} if collections else \
        {"type": "string", "pattern": NAME_RE.pattern}
    param = {"name": "collection", "in": "query", "required": False, "schema": name,
             "description": "The collection to use (GET /api/collections); default: the "
                            "server's first."}
    for path, operations in document["paths"].items():
        if path.startswith(("/api/documents", "/api/jobs")) or path in (
                "/api/health", "/api/ready", "/api/writes"):
            for operation in operations.values():
                operation.setdefault("parameters", []).append(param)
                operation["responses"].setdefault("404", _error("No such collection."))
    document["components"]["schemas"]["AskRequest"]["properties"]["collection"] = {
        **name, "description": "The collection to ask (GET /api/collections); default: "
                               "the server's first."}
    document["paths"]["/api/ask"]["post"]["responses"]["404"] = _error(
        "No such collection.")
    return document


def _reads() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "qa_service",
            "version": __version__,
            "description": "Questions answered with retrieved, attributed passages from a "
                           "document collection; never generated text.",
        },
        "paths": {
            "/api/ask": {"post": {
                "summary": "Answer a question with ranked, attributed passages",
                "operationId": "ask",
                "security": _KEYED,
                "requestBody": {"required": True, "content": {
                    "application/json": {"schema": ref("AskRequest")}}},
                "responses": {
                    "200": _json(ref("Answer"), "The passages, best first."),
                    "400": _error(f"Malformed JSON, JSON nested deeper than {MAX_DEPTH} "
                                  "levels, or a field missing or out of range."),
                    "413": _error("The request body is too large."),
                    "415": _error("The body is not sent as application/json."),
                    **_UNAUTHORIZED, **_LIMITED,
                    "503": _error("The index or the model cannot be used."),
                },
            }},
            "/api/health": {"get": {
                "summary": "Service status and the version of the index served",
                "operationId": "health",
                "security": [{}],  # open even with keys on: liveness probes
                "responses": {"200": _json(
                    ref("Liveness"),
                    "The service is up; `degraded` when it has no readable index (every "
                    "question gets 503 until a build is published).")},
            }},
            "/api/ready": {"get": {
                "summary": "Readiness: a fresh, readable index is loaded",
                "operationId": "ready",
                "security": _KEYED,
                "responses": {
                    "200": _json(ref("Ready"), "Ready to answer."),
                    **_UNAUTHORIZED,
                    "503": _error("Not ready: the message says why (the index is stale, "
                                  "corrupt or not loaded)."),
                },
            }},
            "/api/documents": {"get": {
                "summary": "The indexed documents with metadata and paragraph counts",
                "operationId": "listDocuments",
                "security": _KEYED,
                "parameters": [
                    {"name": "limit", "in": "query", "required": False,
                     "description": "How many documents to return.",
                     "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
                                "default": DEFAULT_LIMIT}},
                    {"name": "offset", "in": "query", "required": False,
                     "description": "How many documents (by doc_id) to skip.",
                     "schema": {"type": "integer", "minimum": 0, "default": 0}},
                    *LIST_FILTERS,
                    {"name": "facets", "in": "query", "required": False,
                     "description": "Add `facets`: the sources, the span of dates and the "
                                    "metadata fields the documents can be filtered by.",
                     "schema": {"type": "boolean", "default": False}},
                ],
                "responses": {"200": _json(ref("DocumentList"), "A page of documents."),
                              "400": _error("limit or offset out of range, a malformed "
                                            "filter, an unknown parameter, or a filter "
                                            "value no document has (the message names "
                                            "those that exist)."),
                              **_UNAUTHORIZED, **_LIMITED, **_UNAVAILABLE},
            }},
            "/api/documents/{doc_id}": {"get": {
                "summary": "One cleaned document with numbered paragraphs",
                "operationId": "getDocument",
                "security": _KEYED,
                "parameters": [{
                    "name": "doc_id", "in": "path", "required": True,
                    "description": "The document's id (its path in the corpus; may hold /).",
                    "schema": {"type": "string"},
                }],
                "responses": {
                    "200": _json(ref("Document"), "The document."),
                    "404": _error("No such document."),
                    **_UNAUTHORIZED, **_LIMITED, **_UNAVAILABLE,
                },
            }},
            "/api/collections": {"get": {
                "summary": "The collections this server serves",
                "operationId": "listCollections",
                "security": _KEYED,
                "responses": {"200": _json(ref("CollectionList"), "Each collection, the "
                                                                  "default first."),
                              **_UNAUTHORIZED, **_LIMITED},
            }},
            "/api/writes": {"get": {
                "summary": "Whether this server takes writes, and their limits (admin key)",
                "operationId": "writes",
                "security": [{"adminKey": []}],
                "responses": {
                    "200": _json(ref("Writes"), "Writes are on and the key is an admin key."),
                    "401": {**_error("Writes are on and the request has no valid admin "
                                     "key."),
                            "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}}},
                    "403": _error("Writes are off (the server has no admin keys), or the "
                                  "key may only read."),
                    **_LIMITED,
                },
            }},
            "/api/openapi.json": {"get": {
                "summary": "This description",
                "operationId": "openapi",
                "security": _KEYED,
                "responses": {"200": {"description": "OpenAPI 3.1 document.",
                                      "content": {"application/json": {}}},
                              **_UNAUTHORIZED, **_LIMITED},
            }},
        },
        "components": {"schemas": SCHEMAS, "securitySchemes": {"apiKey": {
            "type": "http", "scheme": "bearer",
            "description": "Set when the server has API keys (QA_API_KEYS or "
                           "QA_API_KEYS_FILE). /metrics (Prometheus text, outside this "
                           "API) takes the same key."},
            "adminKey": {
                "type": "http", "scheme": "bearer",
                "description": "Set when the server takes writes (QA_ADMIN_KEYS or "
                               "QA_ADMIN_KEYS_FILE). An admin key reads too."}}},
    }
