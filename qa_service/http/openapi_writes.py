"""The OpenAPI description of the write routes: documents added, replaced and deleted."""

from __future__ import annotations

from qa_service.http.schemas import SCHEMAS, ref
from qa_service.writes import MAX_WAIT_SECONDS
from qa_service.writes.jobs import KEEP_JOBS, STATES

# Only admin keys (QA_ADMIN_KEYS) reach these routes; without any, they answer 403.
ADMIN = [{"adminKey": []}]
SECURITY_SCHEME = {
    "type": "http", "scheme": "bearer",
    "description": "An admin key (QA_ADMIN_KEYS or QA_ADMIN_KEYS_FILE): the only keys that "
                   "may add, replace and delete documents and read jobs. A server without "
                   "admin keys refuses writes (403); an API key gets 403 too.",
}
OUTCOMES = ["pending", "indexed", "skipped", "removed", "failed"]

SCHEMAS["JobFile"] = {
    "type": "object",
    "required": ["doc_id", "outcome"],
    "properties": {
        "name": {"type": "string", "description": "The file name as sent."},
        "doc_id": {"type": "string"},
        "outcome": {"type": "string", "enum": OUTCOMES},
        "passages": {"type": "integer", "minimum": 0,
                     "description": "Passages the document has in `index_version`."},
        "reason": {"type": "string", "description": "Why the build left the file out."},
    },
}
SCHEMAS["Job"] = {
    "type": "object",
    "required": ["id", "action", "state", "created_at", "files", "index_version", "error"],
    "properties": {
        "id": {"type": "string"},
        "action": {"type": "string", "enum": ["add", "replace", "delete"]},
        "state": {"type": "string", "enum": list(STATES)},
        "created_at": {"type": "string", "format": "date-time"},
        "started_at": {"type": ["string", "null"], "format": "date-time"},
        "finished_at": {"type": ["string", "null"], "format": "date-time"},
        "files": {"type": "array", "items": ref("JobFile")},
        "index_version": {"type": ["string", "null"],
                          "description": "The index version the job's build published."},
        "error": {"type": ["string", "null"], "description": "Why the job failed."},
    },
}
SCHEMAS["TextDocument"] = {
    "type": "object",
    "required": ["text"],
    "additionalProperties": False,
    "properties": {
        "text": {"type": "string", "minLength": 1, "pattern": r"\S"},
        "title": {"type": "string", "minLength": 1, "pattern": r"\S"},
        "name": {"type": "string", "description": "A file name (.txt or .md); "
                                                  "default: from the title."},
        "metadata": {"type": "object", "description": "Fields such as source, date, "
                                                      "author, tags (a list)."},
    },
}
_UPLOAD = {
    "type": "object",
    "required": ["file"],
    "properties": {
        "file": {"type": "array", "minItems": 1,
                 "items": {"type": "string", "format": "binary"}},
        "metadata": {"type": "string", "description": "A JSON object of fields for every "
                                                      "file; `metadata:<file name>` for one."},
    },
}
_WAIT = {"name": "wait", "in": "query", "required": False,
         "description": "Seconds to wait for the job to end before answering.",
         "schema": {"type": "number", "minimum": 0, "maximum": MAX_WAIT_SECONDS}}
_DOC_ID = {"name": "doc_id", "in": "path", "required": True,
           "description": "The document's id (its path in the corpus).",
           "schema": {"type": "string"}}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict:
    return _json(ref("Error"), description)


def _accepted(description: str) -> dict:
    return {**_json(ref("Job"), description),
            "headers": {"Location": {"schema": {"type": "string"},
                                     "description": "The job: /api/jobs/<id>."}}}


_REFUSED = {
    "401": _error("No admin key, or a wrong one."),
    "403": _error("Writes are off (no admin keys configured), or the key only reads."),
    "429": _error("Too many requests, or too many wrong keys from this client."),
}


def write_paths() -> dict:
    """Return the write operations, to be merged into the document's paths."""
    return {
        "/api/documents": {"post": {
            "summary": "Add documents: files (multipart) or one text document (JSON)",
            "operationId": "addDocuments",
            "security": ADMIN,
            "parameters": [_WAIT],
            "requestBody": {"required": True, "content": {
                "multipart/form-data": {"schema": _UPLOAD},
                "application/json": {"schema": ref("TextDocument")}}},
            "responses": {
                "202": _accepted("Stored in the corpus; the job indexes them."),
                "400": _error("A bad name, metadata, count of files, or body."),
                "409": _error("A document of that name exists (replace it with PUT)."),
                "413": _error("A file or the request is over its size limit."),
                "415": _error("The body is neither multipart nor JSON."),
                **_REFUSED,
            },
        }},
        "/api/documents/{doc_id}": {
            "put": {
                "summary": "Replace a document's file (and metadata, if given)",
                "operationId": "replaceDocument",
                "security": ADMIN,
                "parameters": [_DOC_ID, _WAIT],
                "requestBody": {"required": True, "content": {
                    "multipart/form-data": {"schema": _UPLOAD},
                    "application/json": {"schema": ref("TextDocument")}}},
                "responses": {
                    "202": _accepted("Replaced in the corpus; the job indexes it."),
                    "400": _error("A bad file, metadata or body."),
                    "404": _error("No such document in the corpus."),
                    "413": _error("The file or the request is over its size limit."),
                    "415": _error("The body is neither multipart nor JSON."),
                    **_REFUSED,
                },
            },
            "delete": {
                "summary": "Delete a document from the corpus and the index",
                "operationId": "deleteDocument",
                "security": ADMIN,
                "parameters": [_DOC_ID, _WAIT],
                "responses": {
                    "202": _accepted("Removed from the corpus; the job drops its passages."),
                    "404": _error("No such document in the corpus."),
                    **_REFUSED,
                },
            },
        },
        "/api/jobs/{job_id}": {"get": {
            "summary": "A write's job: its state and each file's outcome",
            "operationId": "getJob",
            "security": ADMIN,
            "parameters": [{"name": "job_id", "in": "path", "required": True,
                            "schema": {"type": "string"}}, _WAIT],
            "responses": {
                "200": _json(ref("Job"), "The job."),
                "400": _error("wait is out of range."),
                "404": _error(f"No such job (the last {KEEP_JOBS:,} are kept)."),
                **_REFUSED,
            },
        }},
    }
