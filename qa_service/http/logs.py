"""Request ids, the access log line, and log records as text or JSON lines."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import time
import uuid
from datetime import UTC, datetime

from flask import Flask, g, request

log = logging.getLogger(__name__)
access_log = logging.getLogger("qa_service.http.access")

REQUEST_ID_HEADER = "X-Request-ID"
# What a client's or a proxy's id may be: short, and nothing that could forge a log line.
REQUEST_ID_RE = re.compile(r"[A-Za-z0-9._:-]{1,128}")
LOG_FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
# The access line's own fields, kept as fields in JSON logs.
ACCESS_FIELDS = ("client", "method", "path", "status", "duration_ms", "collection")

# The id of the request this thread serves; "-" outside requests (start-up, watcher).
request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


def incoming_id(value: str | None) -> str:
    """Return the client's request id if it is well formed, else a new one."""
    if value and REQUEST_ID_RE.fullmatch(value):
        return value
    return uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    """Give every record the id of the request being served (`%(request_id)s`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object: time, level, logger, message, request id."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC)
                            .isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", request_id.get()),
        }
        entry.update({k: getattr(record, k) for k in ACCESS_FIELDS if hasattr(record, k)})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def text_formatter() -> logging.Formatter:
    formatter = logging.Formatter(TEXT_FORMAT)
    formatter.default_msec_format = "%s.%03d"
    return formatter


def formatter(fmt: str) -> logging.Formatter:
    """Return the formatter for log format `fmt` ("text" or "json")."""
    if fmt not in LOG_FORMATS:
        raise ValueError(f"log format must be text or json, got {fmt!r}")
    return JsonFormatter() if fmt == "json" else text_formatter()


def configure(fmt: str) -> None:
    """Format the root logger's handlers as `fmt`, each record with its request id."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig()
    for handler in root.handlers:
        handler.setFormatter(formatter(fmt))
        add_filter(handler)
    # The access line is INFO, whatever -v says: a server logs every request.
    access_log.setLevel(logging.INFO)


def add_filter(handler: logging.Handler) -> None:
    """Add the request id filter to `handler`, once."""
    if not any(isinstance(f, RequestIdFilter) for f in handler.filters):
        handler.addFilter(RequestIdFilter())


def install(app: Flask) -> None:
    """Give each request an id (echoed as X-Request-ID) and log one access line for it."""
    for handler in logging.getLogger().handlers:
        add_filter(handler)  # in-process servers too: the format may name request_id

    @app.before_request
    def start_request():
        g.request_id = incoming_id(request.headers.get(REQUEST_ID_HEADER))
        g.request_token = request_id.set(g.request_id)
        g.request_started = time.perf_counter()

    @app.after_request
    def finish_request(response):
        rid = g.get("request_id") or incoming_id(None)
        response.headers[REQUEST_ID_HEADER] = rid
        started = g.get("request_started")
        duration = time.perf_counter() - started if started is not None else 0.0
        fields = {"client": request.remote_addr or "-", "method": request.method,
                  "path": _printable(request.path), "status": response.status_code,
                  "duration_ms": round(duration * 1000, 1)}
        collection = g.get("collection")  # set once a request's collection is known
        if collection:
            fields["collection"] = collection
        access_log.info("%s %s %s %d %.0fms%s", fields["client"], fields["method"],
                        fields["path"], fields["status"], duration * 1000,
                        f" [{collection}]" if collection else "", extra=fields)
        return response

    @app.teardown_request
    def end_request(exc):
        token = g.pop("request_token", None)
        if token is not None:
            request_id.reset(token)


def _printable(text: str) -> str:
    """Escape control and non-ASCII characters: a decoded path could forge a log line."""
    return text if text.isascii() and text.isprintable() else (
        text.encode("unicode_escape").decode("ascii"))
