"""FastAPI dependencies, read from `request.app.state` (create_app fills it), so route modules hold no closures.

Annotated aliases in the full-stack-fastapi-template style: a handler asks for `svc: ServiceDep`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from .errors import ServiceUnavailable
from .service import MemoryService
from .settings import Settings

_graph_lock = threading.Lock()


def get_service(request: Request) -> MemoryService:
    return request.app.state.service


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


ServiceDep = Annotated[MemoryService, Depends(get_service)]
SettingsDep = Annotated[Settings, Depends(get_settings)]

bearer = HTTPBearer(auto_error=False, description="API key from `engram keys add`; needed once any key exists")
CredentialsDep = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def authorize(request: Request, ns: str, credentials: CredentialsDep) -> None:
    """401 without a known key, 403 when the key is not granted the namespace in the path."""
    request.app.state.keyring.authorize(credentials.credentials if credentials else None, ns)


def agent_graph(app: FastAPI):
    """The agent graph, built on first use by the factory the app was given (it loads the base model: seconds,
    hundreds of MB). The API process does not import the agent: whoever starts it passes the factory in."""
    with _graph_lock:
        if getattr(app.state, "graph", None) is None:
            if app.state.graph_factory is None:
                raise ServiceUnavailable("chat", "this API process serves no agent (started without a graph "
                                                 "factory: `engram serve` or engram.app:create_app serve one)")
            app.state.graph = app.state.graph_factory(app.state.service)
        return app.state.graph


def get_graph(request: Request) -> Callable[[], Any]:
    """A getter, not the graph: chat checks its body and namespace (422) before a missing agent answers 503."""
    return partial(agent_graph, request.app)


GraphDep = Annotated[Callable[[], Any], Depends(get_graph)]
