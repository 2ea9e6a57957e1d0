"""API keys: `Authorization: Bearer <key>` on /api/* (but /api/health) and /metrics."""

from __future__ import annotations

import hmac
import logging
import math
import os
import re
import time
from pathlib import Path

from flask import Flask, request

from qa_service.config import Settings
from qa_service.errors import Forbidden, InvalidInput, TooManyRequests, Unauthorized
from qa_service.http.metrics import metrics

log = logging.getLogger(__name__)

# Visible ASCII only: a key must survive an HTTP header and a shell unchanged.
KEY_RE = re.compile(r"[\x21-\x7e]+")
# Liveness probes and the pages (which ask for a key themselves) stay open.
OPEN_PATHS = frozenset({"/api/health"})


def load_keys(settings: Settings, environ=None, kind: str = "api") -> list[bytes]:
    """Return the configured API keys, or with `kind` "admin" the admin keys (none: off),
    or raise InvalidInput."""
    environ = os.environ if environ is None else environ
    serving = settings.serving
    listed, file = getattr(serving, f"{kind}_keys"), getattr(serving, f"{kind}_keys_file")
    # Settings treat an empty variable as unset; a key variable set to nothing is more
    # likely a secret that failed to arrive than a wish to serve without keys.
    for name in (f"QA_{kind.upper()}_KEYS", f"QA_{kind.upper()}_KEYS_FILE"):
        if name in environ and not environ[name].strip():
            what = "API key" if kind == "api" else "admin key"
            raise InvalidInput(f"{name} is set but empty: give at least one {what}, "
                               f"or unset it to serve without "
                               f"{'keys' if kind == 'api' else 'writes'}")
    keys: list[str] = []
    if listed:
        given = [k.strip() for k in listed.split(",")]
        if not any(given):
            raise InvalidInput(f"setting {kind}_keys holds no key: give keys separated "
                               "by commas")
        keys += _checked((k for k in given if k), f"{kind}_keys")
    if file:
        keys += _read_file(Path(file).expanduser())
    return [k.encode("ascii") for k in dict.fromkeys(keys)]


def _read_file(path: Path) -> list[str]:
    try:
        lines = path.read_text("utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InvalidInput(f"cannot read the API key file {path}: {reason}") from None
    keys = [line.strip() for line in lines]
    keys = [k for k in keys if k and not k.startswith("#")]
    if not keys:
        raise InvalidInput(f"the API key file {path} holds no key (one key a line)")
    return _checked(keys, str(path))


def _checked(keys, where: str) -> list[str]:
    keys = list(keys)
    for number, key in enumerate(keys, 1):
        if not KEY_RE.fullmatch(key):
            # Say which key, never what it is: the message lands in logs.
            raise InvalidInput(f"API key {number} in {where} has spaces or characters "
                               "other than visible ASCII")
    return keys


def is_valid(given: bytes, keys: list[bytes]) -> bool:
    """Say whether `given` is one of `keys`, in time independent of which and how close."""
    found = False
    for key in keys:  # every key, no early exit: the time does not tell which one matched
        found |= hmac.compare_digest(given, key)
    return found


def needs_key(path: str) -> bool:
    """Say whether a request for `path` must carry a key, when keys are on."""
    return path == "/metrics" or (path.startswith("/api/") and path not in OPEN_PATHS)


class FailureThrottle:
    """Count each client address's requests refused for their key, in a moving window
    (the `limits` library, as Flask-Limiter uses), and refuse the client past the limit."""

    def __init__(self, limit: str):
        # "off": behind a proxy every client shares one address (an empty variable is
        # read as unset, so it cannot say off).
        self.off = limit.strip().lower() in ("", "off")
        if self.off:
            return
        from limits import parse
        from limits.storage import MemoryStorage
        from limits.strategies import MovingWindowRateLimiter

        try:
            self.limit = parse(limit)
        except ValueError:
            raise InvalidInput(f"setting auth_failure_limit must look like '10/minute', "
                               f"got {limit!r}") from None
        self.window = MovingWindowRateLimiter(MemoryStorage())

    def check(self, client: str) -> None:
        """Raise TooManyRequests while `client` has no failures left in the window."""
        if self.off or self.window.test(self.limit, client):
            return
        reset = self.window.get_window_stats(self.limit, client).reset_time
        wait = max(1, math.ceil(reset - time.time()))
        metrics().auth_failures.labels(outcome="throttled").inc()
        error = TooManyRequests(f"too many requests with a missing or wrong API key from "
                                f"this client; try again in {wait} s")
        error.headers = {"Retry-After": str(wait)}
        raise error

    def failed(self, client: str) -> None:
        """Count a request of `client` refused for its key."""
        if not self.off:
            self.window.hit(self.limit, client)
        metrics().auth_failures.labels(outcome="refused").inc()


def is_write(method: str, path: str) -> bool:
    """Say whether a request changes documents or reads jobs or the writes' limits
    (GET /api/writes): only admin keys may."""
    if path in ("/api/jobs", "/api/writes") or path.startswith("/api/jobs/"):
        return True
    return method in ("POST", "PUT", "DELETE", "PATCH") and (
        path == "/api/documents" or path.startswith("/api/documents/"))


WRITES_OFF = ("writes are off on this server: start it with QA_ADMIN_KEYS (or "
              "QA_ADMIN_KEYS_FILE) set to let holders of those keys add, replace and "
              "delete documents")


def install(app: Flask, keys: list[bytes], failure_limit: str = "10/minute",
            admin_keys: list[bytes] | None = None) -> None:
    """Refuse requests that need a key and lack a valid one: with API keys, every API
    request; with admin keys, writes (which are refused outright without them). A client
    refused too often is throttled (429) for a while."""
    admin = list(admin_keys or [])
    readers = list(keys) + admin  # an admin key reads too
    if keys:
        log.info("API keys on: %d key(s)", len(keys))
    if admin:
        log.info("admin keys on: %d key(s) may add, replace and delete documents", len(admin))
    throttle = FailureThrottle(failure_limit) if readers else None

    @app.before_request
    def require_key():
        # CORS preflights carry no credentials by design; the request that follows does.
        if request.method == "OPTIONS":
            return None
        write = is_write(request.method, request.path)
        if write and not admin:
            raise Forbidden(WRITES_OFF)
        if not write and not (keys and needs_key(request.path)):
            return None
        client = request.remote_addr or "unknown"
        # Before the key is read: past the limit even the right key waits, so a guess
        # that happens to match tells the guesser nothing sooner.
        throttle.check(client)
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            throttle.failed(client)
            raise Unauthorized(f"{'an admin' if write else 'an API'} key is required: send "
                               "the header 'Authorization: Bearer <key>'")
        given = token.strip().encode("utf-8", "surrogateescape")
        if is_valid(given, admin if write else readers):
            return None
        if write and is_valid(given, keys):  # a right key, for reading only: no guess
            raise Forbidden("this API key may read but not write: adding, replacing and "
                            "deleting documents needs an admin key (QA_ADMIN_KEYS)")
        throttle.failed(client)
        error = Unauthorized(f"the {'admin' if write else 'API'} key is not valid")
        error.headers = {"WWW-Authenticate":
                         'Bearer realm="qa-service", error="invalid_token"'}
        raise error
