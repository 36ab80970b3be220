"""Request body size limit (ASGI middleware): 413 with a JSON error before the body is read.

A declared Content-Length over the limit is refused without reading a byte. A body without one (chunked) is
counted as it arrives; once over the limit, reading stops with an HTTPException(413), which the API's handler
renders like every other error.
"""

from __future__ import annotations

import json

from fastapi import HTTPException


def too_large_message(size: int | None, limit: int) -> str:
    got = f"{size} bytes" if size is not None else "more than that"
    return f"request body is {got}; the limit is {limit} bytes (max_body_bytes)"


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int):
        super().__init__(status_code=413, detail=too_large_message(None, limit))


class BodySizeLimit:
    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            return await self._refuse(send, int(declared))
        received = 0

        async def counted():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        await self.app(scope, counted, send)

    async def _refuse(self, send, size: int) -> None:
        body = json.dumps({"error": too_large_message(size, self.max_bytes), "field": None}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})
