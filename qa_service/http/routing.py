"""URL converters: a document id in a path is any path, newlines and all."""

from __future__ import annotations

from flask import Blueprint
from werkzeug.routing import PathConverter


class DocIdConverter(PathConverter):
    """Match a path as `path` does, but across newlines too (a file named "a\\nb.txt")."""

    # Werkzeug's `path` is "[^/].*?", whose "." stops at a newline: such an id was a 404.
    regex = r"[^/][\s\S]*?"


def use_doc_ids(bp: Blueprint) -> None:
    """Make `bp`'s <path:...> rules match newlines; call before its routes are defined."""
    # It replaces `path` rather than adding a name so that the rules read as before: the
    # metrics label requests by rule ("/api/documents/<path:doc_id>").
    bp.record_once(lambda state: state.app.url_map.converters.update(path=DocIdConverter))
