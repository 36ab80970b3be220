"""Domain errors. The API maps them to HTTP status codes in one handler (http_errors.py); the CLI prints them."""

from __future__ import annotations


class EngramError(Exception):
    """Base class; `field` names the offending input when there is one."""

    status_code = 400

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(EngramError):
    status_code = 422


class Unauthorized(EngramError):
    """No API key, or one the server does not know."""

    status_code = 401
    headers = {"WWW-Authenticate": "Bearer"}


class Forbidden(EngramError):
    """A known API key used on a namespace it is not allowed."""

    status_code = 403


class NotFound(EngramError):
    status_code = 404


class Conflict(EngramError):
    status_code = 409


class ServiceUnavailable(EngramError):
    """A backing service (Qdrant, Redis) cannot be reached; `service` names it."""

    status_code = 503

    def __init__(self, service: str, message: str):
        super().__init__(f"{service} unavailable: {message}", field=None)
        self.service = service


class StoreLocked(ServiceUnavailable):
    """The embedded store folder is owned by another process (it is single-process by design)."""

    def __init__(self, path: str):
        super().__init__(
            "qdrant",
            f"the embedded store at {path} is open in another process (e.g. `engram serve`); "
            "stop it, or point this command at that server with --api URL",
        )
