"""The write routes under /api: add, replace and delete documents, and read their jobs.

Each write lands in the collection's corpus folder and answers 202 with a job
(`Location: /api/jobs/<id>`); the job's build makes it answerable. Only admin keys
reach these routes (http/auth.py).
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import unicodedata

from flask import Blueprint, current_app, jsonify, request, url_for

from qa_service.errors import CorpusError, InvalidInput
from qa_service.http.body import json_body
from qa_service.ingest.readers import SUFFIXES
from qa_service.writes import MAX_WAIT_SECONDS, CorpusEditor, Upload, Writer

log = logging.getLogger(__name__)

bp = Blueprint("writes", __name__, url_prefix="/api")

FILE_FIELDS = ("file", "files")  # multipart field names a file may come in
JSON_FIELDS = {"name", "title", "text", "metadata"}
_SLUG_RE = re.compile(r"[^a-z0-9]+")
_WAIT_RE = re.compile(r"[0-9]{1,6}(\.[0-9]{1,3})?")


def writer() -> Writer:
    """Return the writer of the collection the request names (`?collection=`; none: the
    default), made on its first write (a read-only server makes none)."""
    return current_app.extensions["qa_collections"].writer(request.args.get("collection"))


@bp.before_request
def allow_uploads():
    # Files are bigger than questions: writes get their own body limit.
    if request.method in ("POST", "PUT"):
        request.max_content_length = current_app.extensions["qa"].settings.serving \
            .max_upload_bytes  # a serving setting: the same for every collection


@bp.get("/writes")
def writes_on():
    """Say that this server takes writes (only an admin key reaches here: a 403 without
    admin keys says they are off), whether its corpus can take them, and their limits."""
    served = current_app.extensions["qa_collections"]
    settings = served.get(request.args.get("collection")).settings
    try:
        CorpusEditor(settings.corpus)
        writable, reason = True, None
    except CorpusError as exc:
        writable, reason = False, exc.message
    return jsonify({
        "writable": writable, "reason": reason,
        "max_upload_bytes": settings.serving.max_upload_bytes,
        "max_upload_files": settings.serving.max_upload_files,
        "max_file_bytes": settings.build.max_file_bytes,
        "types": list(SUFFIXES),
    })


@bp.post("/documents")
def add_documents():
    """Add documents: multipart files (with metadata), or JSON {title, text, metadata}."""
    target = writer()
    if request.mimetype == "multipart/form-data":
        uploads = _uploaded_files()
    else:
        uploads = [_json_document(json_body(request), new=True)]
    job = target.add(uploads, target.settings.serving.max_upload_files)
    return _accepted(job)


@bp.put("/documents/<path:doc_id>")
def replace_document(doc_id: str):
    """Replace a document's file (and metadata, if given) with one file or JSON text."""
    if request.mimetype == "multipart/form-data":
        uploads = _uploaded_files()
        if len(uploads) != 1:
            raise InvalidInput(f"a replacement is one file; got {len(uploads)}")
        upload = uploads[0]
    else:
        upload = _json_document(json_body(request), new=False)
    return _accepted(writer().replace(doc_id, upload))


@bp.delete("/documents/<path:doc_id>")
def delete_document(doc_id: str):
    """Delete a document: its file leaves the corpus, its passages the next index."""
    return _accepted(writer().remove(doc_id))


@bp.get("/jobs/<job_id>")
def job(job_id: str):
    """Return a write's job: its state, each file's outcome and the version holding it."""
    return jsonify(writer().job(job_id, _wait_arg()))


def _accepted(job: dict):
    wait = _wait_arg()
    if wait:
        job = writer().job(job["id"], wait)
    response = jsonify(job)
    response.status_code = 202
    response.headers["Location"] = url_for("writes.job", job_id=job["id"],
                                           collection=request.args.get("collection"))
    return response


def _wait_arg() -> float:
    raw = request.args.get("wait")
    if raw is None:
        return 0.0
    if not _WAIT_RE.fullmatch(raw.strip()) or float(raw) > MAX_WAIT_SECONDS:
        raise InvalidInput(f"wait must be a number of seconds from 0 to "
                           f"{MAX_WAIT_SECONDS:g}, got {raw[:40]!r}")
    return float(raw)


def _uploaded_files() -> list[Upload]:
    """Read a multipart write: files, `metadata` (for all) and `metadata:<name>` (one)."""
    if any(not isinstance(k, str) for k in (*request.files, *request.form)):
        raise InvalidInput("a part of the form has no name: send files as 'file'")
    unknown = [k for k in request.files if k not in FILE_FIELDS]
    if unknown:
        raise InvalidInput(f"unknown file field {unknown[0][:40]!r}: send files as 'file'")
    shared = _form_json("metadata")
    names = {key.partition(":")[2] for key in request.form if key.startswith("metadata:")}
    uploads = []
    for field in FILE_FIELDS:
        for storage in request.files.getlist(field):
            name = storage.filename or ""
            own = _form_json(f"metadata:{name}")
            names.discard(name)
            metadata = None if shared is None and own is None else {**(shared or {}),
                                                                    **(own or {})}
            uploads.append(Upload(name, storage.read(), metadata))
    if names:
        raise InvalidInput(f"metadata for {sorted(names)[0][:80]!r}, which is not a file "
                           "of this request")
    other = [k for k in request.form if k != "metadata" and not k.startswith("metadata:")]
    if other:
        raise InvalidInput(f"unknown field {other[0][:40]!r}: expected file, metadata or "
                           "metadata:<file name>")
    return uploads


def _form_json(key: str) -> dict | None:
    raw = request.form.get(key)
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except (json.JSONDecodeError, RecursionError):
        raise InvalidInput(f"{key[:80]} must be a JSON object of fields") from None
    if not isinstance(value, dict):
        raise InvalidInput(f"{key[:80]} must be a JSON object of fields")
    return value


def _json_document(body, new: bool) -> Upload:
    """Read a JSON write: {"title", "text", "metadata"?, "name"?} (text is required)."""
    if not isinstance(body, dict):
        raise InvalidInput("the request body must be a JSON object")
    unknown = set(body) - JSON_FIELDS
    if unknown:
        raise InvalidInput(f"unknown field {sorted(unknown)[0][:80]!r}: expected title, "
                           "text, metadata or name")
    text, title = body.get("text"), body.get("title")
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput("text is required: the document's text")
    if title is not None and (not isinstance(title, str) or not title.strip()):
        raise InvalidInput("title must be text")
    metadata = body.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise InvalidInput("metadata must be an object of fields")
    if title is not None:
        metadata = {**(metadata or {}), "title": title.strip()}
    name = body.get("name")
    if name is None and new:
        name = _name_for(title)
    if name is not None and not isinstance(name, str):
        raise InvalidInput("name must be a file name")
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput("text holds characters that are not text (lone surrogates)") \
            from None
    return Upload(name or "", data, metadata)


def _name_for(title: str | None) -> str:
    """Return a file name for a document sent as JSON: its title's words, or a random one."""
    ascii_title = unicodedata.normalize("NFKD", title or "").encode("ascii", "ignore")
    slug = _SLUG_RE.sub("-", ascii_title.decode().lower()).strip("-")[:80].strip("-")
    return f"{slug or 'document'}-{secrets.token_hex(3)}.txt"
