"""How errors reach the client: every failure, domain or HTTP, answers the same body {"error", "field"}.

Domain errors (errors.py) carry their own status code; tracebacks go to the log, never to the client.
"""

from __future__ import annotations

import logging

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from language.errors import LanguageError

from .errors import EngramError, ServiceUnavailable

log = logging.getLogger("memory_service.api")  # the logger these messages always went to


class ErrorBody(BaseModel):
    error: str
    field: str | None = None


# what every /v1 route documents besides its success
ERROR_RESPONSES = {c: {"model": ErrorBody} for c in (401, 403, 404, 413, 422, 503)}


def field_name(loc) -> str:
    """('body', 'facts', 0, 'text') -> 'facts[0].text', the same spelling the service uses."""
    out = ""
    for part in loc:
        if part in ("body", "path", "query"):
            continue
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


async def domain_error(_: Request, exc: EngramError) -> JSONResponse:
    if isinstance(exc, ServiceUnavailable):
        log.warning("%s", exc.message)
    return JSONResponse(status_code=exc.status_code, content={"error": exc.message, "field": exc.field},
                        headers=getattr(exc, "headers", None))


async def language_error(_: Request, exc: LanguageError) -> JSONResponse:
    log.warning("%s", exc)  # the server is missing its English pipeline: not the client's fault
    return JSONResponse(status_code=503, content={"error": f"language unavailable: {exc}", "field": None})


async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
    # 404 unknown route, 405, 413 from the body limit: the same error body as everything else
    return JSONResponse(status_code=exc.status_code, content={"error": str(exc.detail), "field": None},
                        headers=getattr(exc, "headers", None))


async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
    field = field_name(first["loc"])
    return JSONResponse(status_code=422, content={
        "error": f"{field or 'request'}: {first['msg']}", "field": field or None,
        "details": [{"field": field_name(e["loc"]), "message": e["msg"]} for e in errors],
    })


async def unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error")  # the trace goes to the log, never to the client
    return JSONResponse(status_code=500, content={"error": "internal error", "field": None})


# exception class -> handler, for app.add_exception_handler
ERROR_HANDLERS = {
    EngramError: domain_error,
    LanguageError: language_error,
    StarletteHTTPException: http_error,
    RequestValidationError: validation_error,
    Exception: unexpected,
}
