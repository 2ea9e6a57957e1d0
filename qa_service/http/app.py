"""The Flask application factory: one process loads the model and the index once."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from qa_service.config import Settings
from qa_service.errors import InvalidInput, QAError
from qa_service.http.api import bp as api_blueprint
from qa_service.http.auth import install as install_auth
from qa_service.http.auth import load_keys
from qa_service.http.collections import Collections
from qa_service.http.logs import install as install_logs
from qa_service.http.metrics import install as install_metrics
from qa_service.http.pages import bp as pages_blueprint
from qa_service.http.routing import DocIdConverter
from qa_service.http.writes import bp as writes_blueprint

log = logging.getLogger(__name__)

# Only the service's own files: no inline script, no third-party anything.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
# On every response: the app's, and the errors the HTTP server answers itself (worker.py).
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def create_app(test_config: dict | None = None) -> Flask:
    """Create the app: settings from defaults and `QA_*` variables, or the test's mapping."""
    app = Flask(__name__, static_folder=str(Path(__file__).parent / "static"),
                static_url_path="/static")
    keys = Settings.keys()
    overrides = {k: v for k, v in (test_config or {}).items() if k in keys}
    settings = Settings.from_env(**overrides)
    app.config.from_mapping(
        MAX_CONTENT_LENGTH=settings.serving.max_request_bytes,
        JSON_SORT_KEYS=False,
        PROPAGATE_EXCEPTIONS=False,
        # Never the debugger or tracebacks in responses, even with FLASK_DEBUG set.
        DEBUG=False,
    )
    app.config.from_mapping({k: v for k, v in (test_config or {}).items() if k.isupper()})
    app.json.sort_keys = False
    # A doubled slash is no other path: no redirect, so "//etc/passwd" is just not found.
    app.url_map.merge_slashes = False
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    # Keys first: a misconfigured key list stops the start before the model loads.
    keys = load_keys(settings)
    admin_keys = load_keys(settings, kind="admin")
    # A server swaps in new builds (serve.py starts the watchers); requests read `.current`.
    served = Collections(settings)
    app.extensions["qa_collections"] = served
    app.extensions["qa"] = served.default  # the collection a request that names none asks
    app.extensions["qa_writes"] = bool(admin_keys)  # /api/health says so (to the pages)

    # Before-request hooks run in this order: the request id (so that even a refusal
    # carries one), then the key check, then the rate limit.
    install_logs(app)
    install_auth(app, keys, settings.serving.auth_failure_limit, admin_keys)
    install_metrics(app)
    # Before any rule is bound: <path:doc_id> must match a file named with a newline.
    app.url_map.converters["path"] = DocIdConverter
    app.register_blueprint(api_blueprint)
    app.register_blueprint(writes_blueprint)
    app.register_blueprint(pages_blueprint)
    _register_error_handlers(app)
    _register_headers(app, settings)
    _register_rate_limit(app, settings)
    return app


def check_rate_limit(value: str) -> None:
    """Raise InvalidInput unless `value` is empty or a limit Flask-Limiter understands."""
    if not value.strip():
        return
    from limits import parse_many

    try:
        parse_many(value)
    except ValueError:
        raise InvalidInput(f"setting rate_limit must look like '60/minute' or "
                           f"'10/second;300/hour', got {value!r}") from None


def _register_rate_limit(app: Flask, settings: Settings) -> None:
    """Limit API requests per client address, if `rate_limit` is set."""
    rate_limit = settings.serving.rate_limit
    if not rate_limit.strip():
        return
    from flask_limiter import Limiter
    from flask_limiter.errors import RateLimitExceeded
    from flask_limiter.util import get_remote_address

    check_rate_limit(rate_limit)
    Limiter(
        # One budget per client address for the whole API, not one per endpoint.
        get_remote_address, app=app, application_limits=[rate_limit],
        # Pages, static files and health and readiness checks (load balancers poll them)
        # stay free.
        application_limits_exempt_when=lambda: (not request.path.startswith("/api/")
                                            or request.path in ("/api/health",
                                                                "/api/ready")),
        storage_uri="memory://", headers_enabled=True,
    )

    @app.errorhandler(RateLimitExceeded)
    def rate_limited(exc: RateLimitExceeded):
        body = {"error": {"code": "too_many_requests", "message":
                          f"too many requests: the limit is {exc.description}; try again later"}}
        return jsonify(body), 429


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        body = {"error": {"code": error_code(exc.name or "error"),
                          "message": exc.description or exc.name}}
        response = jsonify(body)
        response.status_code = exc.code or 500
        if exc.code == 405 and exc.valid_methods:
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response

    @app.errorhandler(QAError)
    def domain_error(exc: QAError):
        return jsonify(exc.to_dict()), exc.status, exc.headers

    @app.errorhandler(Exception)
    def unexpected_error(exc: Exception):
        log.exception("unhandled error")  # the details go to the log, never to the client
        return jsonify(QAError("internal error").to_dict()), 500


def error_code(name: str) -> str:
    """Return the error body's code for an HTTP status name ("Not Found" -> not_found)."""
    return name.lower().replace(" ", "_").replace("'", "")


def _register_headers(app: Flask, settings: Settings) -> None:
    origins = settings.serving.cors_origin_list
    if origins:
        from flask_cors import CORS

        CORS(app, resources={r"/api/*": {"origins": origins}}, methods=["GET", "POST"],
             allow_headers=["Content-Type", "Authorization", "X-Request-ID"],
             expose_headers=["X-Request-ID"])

    @app.after_request
    def security_headers(response):
        response.headers.update(SECURITY_HEADERS)
        return response
