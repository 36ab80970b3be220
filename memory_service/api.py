"""REST API (FastAPI; OpenAPI at /docs): create_app assembles it; the routes live in routes/, one module per
resource, their dependencies in deps.py, the mapping of errors to HTTP status codes in http_errors.py.

Every /v1 route sits behind `authorize` (API keys, auth.py); /healthz is open, /metrics open unless
auth.metrics_public is false. Request bodies over max_body_bytes get 413 (body_limit.py).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from fastapi import FastAPI

from .auth import KeyRing
from .body_limit import BodySizeLimit
from .http_errors import ERROR_HANDLERS
from .metrics import metrics_registry
from .routes import ops, v1
from .service import MemoryService
from .settings import Settings


@asynccontextmanager
async def lifespan(app: FastAPI, *, settings: Settings, service: MemoryService | None, relay: bool):
    """Opens the service (unless one was handed in: its owner closes it) and the event relay."""
    from .relay import Consolidations, Relay

    owned = service is None
    app.state.service = service or MemoryService(settings)
    app.state.consolidations = Consolidations(app.state.service)
    app.state.relay = Relay(app.state.consolidations).start() if relay else None
    yield
    if app.state.relay:
        app.state.relay.stop()
    if owned:
        app.state.service.close()


def create_app(settings: Settings | None = None, service: MemoryService | None = None, relay: bool = True,
               graph_factory: Callable[[MemoryService], Any] | None = None) -> FastAPI:
    """`relay`: run the event relay in this process (it owns the store, so it applies consolidation results).
    `graph_factory(service)`: builds the chat graph on the first chat request; without it chat answers 503."""
    settings = settings or Settings()
    app = FastAPI(title="engram", version="0.1.0",
                  lifespan=partial(lifespan, settings=settings, service=service, relay=relay),
                  description="Long-term memory for conversational agents: short-term facts in Qdrant, "
                              "consolidated into per-topic LoRA adapters.")
    app.state.settings = settings
    app.state.keyring = KeyRing.from_settings(settings.auth)
    app.state.graph_factory = graph_factory
    app.state.metrics = metrics_registry(lambda: app.state.service)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    for exc_class, handler in ERROR_HANDLERS.items():
        app.add_exception_handler(exc_class, handler)
    app.include_router(ops.router)
    app.include_router(v1)
    return app
