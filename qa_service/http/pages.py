"""The pages blueprint: the chat page, the documents list and the document view, static
files only (their scripts read the JSON API)."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, send_from_directory

bp = Blueprint("pages", __name__)


@bp.get("/")
def chat():
    """Serve the chat page."""
    return send_from_directory(current_app.static_folder, "index.html")


@bp.get("/documents")
def archive():
    """Serve the list of documents, with its filters and pages."""
    return send_from_directory(current_app.static_folder, "archive.html")


@bp.get("/documents/")
def archive_slash():
    """Send `/documents/` (no document named) to the list."""
    return redirect("/documents", code=308)


@bp.get("/documents/<path:doc_id>")
def document(doc_id: str):
    """Serve the document view; its script loads the document from the API."""
    return send_from_directory(current_app.static_folder, "document.html")
