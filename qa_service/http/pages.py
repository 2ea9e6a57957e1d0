"""The pages blueprint: the chat page and the document view, static files only."""

from __future__ import annotations

from flask import Blueprint, current_app, send_from_directory

bp = Blueprint("pages", __name__)


@bp.get("/")
def chat():
    """Serve the chat page."""
    return send_from_directory(current_app.static_folder, "index.html")


@bp.get("/documents/<path:doc_id>")
def document(doc_id: str):
    """Serve the document view; its script loads the document from the API."""
    return send_from_directory(current_app.static_folder, "document.html")
