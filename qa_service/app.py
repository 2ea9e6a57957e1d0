"""The Flask application factory: one process loads the model and the index once."""

from __future__ import annotations

import logging
from dataclasses import fields
from pathlib import Path

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from qa_service.config import Settings
from qa_service.errors import QAError

log = logging.getLogger(__name__)

# Only the service's own files: no inline script, no third-party anything.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
_SETTING_NAMES = {f.name for f in fields(Settings)}


def create_app(test_config: dict | None = None) -> Flask:
    """Create the app: settings from defaults and `QA_*` variables, or the test's mapping."""
    app = Flask(__name__, static_folder=str(Path(__file__).parent / "static"),
                static_url_path="/static")
    overrides = {k: v for k, v in (test_config or {}).items() if k in _SETTING_NAMES}
    settings = Settings.from_env(**overrides)
    app.config.from_mapping(
        MAX_CONTENT_LENGTH=settings.max_request_bytes,
        JSON_SORT_KEYS=False,
        PROPAGATE_EXCEPTIONS=False,
    )
    app.config.from_mapping({k: v for k, v in (test_config or {}).items() if k.isupper()})
    app.json.sort_keys = False
    # A doubled slash is no other path: no redirect, so "//etc/passwd" is just not found.
    app.url_map.merge_slashes = False
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    from qa_service.live import LiveService

    # A server swaps in new builds (serve.py starts the watcher); requests read `.current`.
    app.extensions["qa"] = LiveService(settings)

    from qa_service import api, web

    app.register_blueprint(api.bp)
    app.register_blueprint(web.bp)
    _register_error_handlers(app)
    _register_headers(app, settings)
    return app


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        code = (exc.name or "error").lower().replace(" ", "_").replace("'", "")
        body = {"error": {"code": code, "message": exc.description or exc.name}}
        response = jsonify(body)
        response.status_code = exc.code or 500
        if exc.code == 405 and exc.valid_methods:
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response

    @app.errorhandler(QAError)
    def domain_error(exc: QAError):
        return jsonify(exc.to_dict()), exc.status

    @app.errorhandler(Exception)
    def unexpected_error(exc: Exception):
        log.exception("unhandled error")  # the details go to the log, never to the client
        return jsonify(QAError("internal error").to_dict()), 500


def _register_headers(app: Flask, settings: Settings) -> None:
    origins = settings.cors_origin_list
    if origins:
        from flask_cors import CORS

        CORS(app, resources={r"/api/*": {"origins": origins}}, methods=["GET", "POST"],
             allow_headers=["Content-Type"])

    @app.after_request
    def security_headers(response):
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Frame-Options"] = "DENY"
        return response
