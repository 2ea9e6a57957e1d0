"""URL converters: a document id in a path is any path, newlines and all."""

from __future__ import annotations

from werkzeug.routing import PathConverter


class DocIdConverter(PathConverter):
    """Match a path as `path` does, but across newlines too (a file named "a\\nb.txt")."""

    # Werkzeug's `path` is "[^/].*?", whose "." stops at a newline: such an id was a 404.
    # It replaces `path` (create_app) rather than adding a name so that the rules read as
    # before: the metrics label requests by rule ("/api/documents/<path:doc_id>").
    regex = r"[^/][\s\S]*?"
