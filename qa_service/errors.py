"""Domain errors: each carries an HTTP status, a stable code and a one-line message."""


class QAError(Exception):
    """Base error of the service; `to_dict()` is the JSON error body."""

    status = 500
    code = "internal_error"
    headers: dict[str, str] = {}  # sent with the error response (never changed in place)

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict:
        return {"error": {"code": self.code, "message": self.message}}


class InvalidInput(QAError):
    status = 400
    code = "invalid_input"


class CorpusError(QAError):
    status = 400
    code = "corpus_error"


class IndexMissing(QAError):
    status = 503
    code = "index_missing"


class IndexCorrupt(QAError):
    status = 503
    code = "index_corrupt"


class ModelError(QAError):
    status = 503
    code = "model_unavailable"


class NotFound(QAError):
    status = 404
    code = "not_found"


class Unauthorized(QAError):
    status = 401
    code = "unauthorized"
    headers = {"WWW-Authenticate": 'Bearer realm="qa-service"'}


class TooManyRequests(QAError):
    status = 429
    code = "too_many_requests"


class NotReady(QAError):
    status = 503
    code = "not_ready"


class Forbidden(QAError):
    status = 403
    code = "forbidden"


class Conflict(QAError):
    status = 409
    code = "conflict"


class TooLarge(QAError):
    status = 413
    code = "payload_too_large"
