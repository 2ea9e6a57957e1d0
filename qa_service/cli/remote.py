"""`--server`: ask a running service over HTTP instead of loading the model and index here."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request

from qa_service.errors import QAError
from qa_service.response import Answer, answer_from_dict


class RemoteError(QAError):
    """An error the server reported, or the server could not be reached."""

    def __init__(self, message: str, status: int = 503, code: str = "unavailable"):
        super().__init__(message)
        self.status = status
        self.code = code


def ask_remote(server: str, body: dict, timeout: float = 60.0) -> Answer:
    """POST `body` to SERVER/api/ask and return the answer, or raise its error."""
    data = json.dumps(body).encode("utf-8")
    found = call(server, "POST", "/api/ask", data, "application/json", timeout=timeout)
    try:
        return answer_from_dict(found)
    except (ValueError, KeyError, TypeError) as exc:
        raise RemoteError(f"no usable answer from {server}: {exc}") from None


def call(server: str, method: str, path: str, data: bytes | None = None,
         content_type: str | None = None, key_variable: str = "QA_API_KEY",
         timeout: float = 60.0) -> dict:
    """Send one request to SERVER and return its JSON body, or raise the error it gave.

    The key comes from the environment variable `key_variable` only: a key on the
    command line would show in `ps`.
    """
    url = server.rstrip("/") + path
    if not url.startswith(("http://", "https://")):
        raise QAError(f"server must be an http:// or https:// address, got {server!r}")
    headers = {"Accept": "application/json"}
    if content_type:
        headers["Content-Type"] = content_type
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    key = os.environ.get(key_variable, "").strip()
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            found = json.load(response)
    except urllib.error.HTTPError as exc:
        try:
            error = json.load(exc)["error"]
            raise RemoteError(error["message"], exc.code, error["code"]) from None
        except (ValueError, KeyError, TypeError):
            raise RemoteError(f"{url} answered {exc.code} {exc.reason}", exc.code) from None
    except urllib.error.URLError as exc:
        raise RemoteError(f"cannot reach {url}: {exc.reason}") from None
    except (TimeoutError, ValueError) as exc:
        raise RemoteError(f"no usable answer from {url}: {exc}") from None
    if not isinstance(found, dict):
        raise RemoteError(f"no usable answer from {url}: not a JSON object")
    return found
