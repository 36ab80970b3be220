"""REST API (FastAPI; OpenAPI at /docs). Domain errors map to HTTP status codes in one handler.

Every /v1 route sits behind `authorize` (API keys, auth.py); /healthz is open, /metrics open unless
auth.metrics_public is false. Request bodies over max_body_bytes get 413 (body_limit.py).
"""

from __future__ import annotations

import logging
import threading
from contextlib import asynccontextmanager
from typing import Annotated, Any, Callable

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from language.errors import LanguageError

from .auth import KeyRing
from .body_limit import BodySizeLimit
from .errors import EngramError, ServiceUnavailable
from .metrics import metrics_registry
from .schemas import Fact, FactIn, MessageIn, MessageResult, RecallHit, TopicInfo, WriteResult
from .service import MemoryService
from .settings import Settings

log = logging.getLogger(__name__)


class WriteRequest(BaseModel):
    facts: list[FactIn] = Field(..., min_length=1, description="Facts to remember, written all or none")


class WriteResponse(BaseModel):
    results: list[WriteResult]


class FactList(BaseModel):
    facts: list[Fact]
    next_offset: str | None = Field(None, description="Pass as `offset` for the next page")


class RecallRequest(BaseModel):
    query: str = Field(..., description="The question or cue")
    limit: int | None = Field(None, ge=1, le=100)
    topic: str | None = None


class RecallResponse(BaseModel):
    hits: list[RecallHit]


class ConsolidationRequest(BaseModel):
    topic: str = Field(..., description="Topic slug to consolidate now (every active fact of it)")


class ConsolidationAccepted(BaseModel):
    task_id: str | None = Field(None, description="The first task; a topic over capacity has one task per shard")
    task_ids: list[str]


class ChatRequest(BaseModel):
    message: str = Field(..., min_length=1, max_length=4000)
    speaker: str = Field("user", min_length=1, max_length=200, description="'user' or a transcript speaker's name")
    addressee: str | None = Field(None, min_length=1, max_length=200,
                                  description="Whom a transcript's speaker talks to: whom their \"you\" means")
    thread_id: str = Field("default", pattern=r"^[A-Za-z0-9_.-]{1,128}$")
    mode: str | None = Field(None, pattern="^(none|rag|lora|hybrid|full)$", description="Default: settings")


class ChatResponse(BaseModel):
    answer: str
    mode: str
    adapter: str | None = Field(None, description="peft adapter (or TIES merge) that answered")
    asked_as: str | None = Field(None, description="The taught question the adapter was asked in place of the "
                                 "message's question (ENGRAM_AGENT__ASK_AS_TAUGHT); null: asked as worded")
    routes: list[dict] = []
    facts: list[str] = Field([], description="Short-term facts put in the prompt")
    written: list[dict] = Field([], description="Facts extracted from the message and written")
    forgotten: list[dict] = Field([], description="What the message asked to forget: deleted, or candidates to "
                                                  "choose from (nothing deleted)")


class ErrorBody(BaseModel):
    error: str
    field: str | None = None


def field_name(loc) -> str:
    """('body', 'facts', 0, 'text') -> 'facts[0].text', the same spelling the service uses."""
    out = ""
    for part in loc:
        if part in ("body", "path", "query"):
            continue
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


_graph_lock = threading.Lock()


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


def get_service(request: Request) -> MemoryService:
    return request.app.state.service


Service = Annotated[MemoryService, Depends(get_service)]

bearer = HTTPBearer(auto_error=False, description="API key from `engram keys add`; needed once any key exists")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def authorize(request: Request, ns: str, credentials: Credentials) -> None:
    """401 without a known key, 403 when the key is not granted the namespace in the path."""
    request.app.state.keyring.authorize(credentials.credentials if credentials else None, ns)


def create_app(settings: Settings | None = None, service: MemoryService | None = None, relay: bool = True,
               graph_factory: Callable[[MemoryService], Any] | None = None) -> FastAPI:
    """`relay`: run the event relay in this process (it owns the store, so it applies consolidation results).
    `graph_factory(service)`: builds the chat graph on the first chat request; without it chat answers 503."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
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

    app = FastAPI(title="engram", version="0.1.0", lifespan=lifespan,
                  description="Long-term memory for conversational agents: short-term facts in Qdrant, "
                              "consolidated into per-topic LoRA adapters.")
    app.state.keyring = KeyRing.from_settings(settings.auth)
    app.state.graph_factory = graph_factory
    app.state.metrics = metrics_registry(lambda: app.state.service)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    v1 = APIRouter(dependencies=[Depends(authorize)])

    @app.exception_handler(EngramError)
    async def domain_error(_: Request, exc: EngramError) -> JSONResponse:
        if isinstance(exc, ServiceUnavailable):
            log.warning("%s", exc.message)
        return JSONResponse(status_code=exc.status_code, content={"error": exc.message, "field": exc.field},
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(LanguageError)
    async def language_error(_: Request, exc: LanguageError) -> JSONResponse:
        log.warning("%s", exc)  # the server is missing its English pipeline: not the client's fault
        return JSONResponse(status_code=503, content={"error": f"language unavailable: {exc}", "field": None})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        # 404 unknown route, 405, 413 from the body limit: the same error body as everything else
        return JSONResponse(status_code=exc.status_code, content={"error": str(exc.detail), "field": None},
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
        field = field_name(first["loc"])
        return JSONResponse(status_code=422, content={
            "error": f"{field or 'request'}: {first['msg']}", "field": field or None,
            "details": [{"field": field_name(e["loc"]), "message": e["msg"]} for e in errors],
        })

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")  # the trace goes to the log, never to the client
        return JSONResponse(status_code=500, content={"error": "internal error", "field": None})

    errors = {c: {"model": ErrorBody} for c in (401, 403, 404, 413, 422, 503)}

    @app.get("/healthz")
    def healthz(svc: Service) -> JSONResponse:
        checks = svc.health()
        ok = all(v == "ok" for v in checks.values())
        return JSONResponse(status_code=200 if ok else 503, content={"status": "ok" if ok else "degraded", **checks})

    @app.get("/metrics", include_in_schema=False)
    def metrics(request: Request, credentials: Credentials) -> Response:
        if not settings.auth.metrics_public:  # then any valid key may scrape: it shows no namespace
            request.app.state.keyring.authorize(credentials.credentials if credentials else None, None)
        return Response(generate_latest(request.app.state.metrics), media_type=CONTENT_TYPE_LATEST)

    @v1.post("/v1/namespaces/{ns}/facts", status_code=201, response_model=WriteResponse, responses=errors)
    def write_facts(ns: str, body: WriteRequest, svc: Service) -> WriteResponse:
        return WriteResponse(results=svc.write(ns, body.facts))

    @v1.post("/v1/namespaces/{ns}/messages", status_code=201, response_model=MessageResult, responses=errors)
    def write_message(ns: str, body: MessageIn, svc: Service) -> MessageResult:
        """Everything a message states, kept: each statement verbatim (attributed to its speaker) and the facts
        read from it; questions and small talk come back unstored."""
        return svc.write_message(ns, body.text, body.speaker, body.said_at, body.source, body.addressee)

    @v1.get("/v1/namespaces/{ns}/facts", response_model=FactList, responses=errors)
    def list_facts(ns: str, svc: Service, topic: str | None = None,
                   status: str | None = Query("active", description="active, superseded, deleted; empty = all"),
                   limit: int = Query(100, ge=1, le=1000), offset: str | None = None) -> FactList:
        facts, nxt = svc.list(ns, topic=topic, status=status or None, limit=limit, offset=offset)
        return FactList(facts=facts, next_offset=nxt)

    @v1.get("/v1/namespaces/{ns}/facts/{fact_id}", response_model=Fact, responses=errors)
    def get_fact(ns: str, fact_id: str, svc: Service) -> Fact:
        return svc.get(ns, fact_id)

    @v1.delete("/v1/namespaces/{ns}/facts/{fact_id}", response_model=Fact, responses=errors)
    def delete_fact(ns: str, fact_id: str, svc: Service) -> Fact:
        return svc.delete(ns, fact_id)

    @v1.post("/v1/namespaces/{ns}/recall", response_model=RecallResponse, responses=errors)
    def recall(ns: str, body: RecallRequest, svc: Service) -> RecallResponse:
        return RecallResponse(hits=svc.recall(ns, body.query, limit=body.limit, topic=body.topic))

    @v1.post("/v1/namespaces/{ns}/consolidations", status_code=202, response_model=ConsolidationAccepted,
              responses=errors)
    def consolidate(ns: str, body: ConsolidationRequest, request: Request) -> ConsolidationAccepted:
        ids = request.app.state.consolidations.request(ns, body.topic, reason="manual")
        return ConsolidationAccepted(task_id=ids[0] if ids else None, task_ids=ids)

    @v1.get("/v1/namespaces/{ns}/consolidations/{task_id}", responses=errors)
    def consolidation_state(ns: str, task_id: str, request: Request) -> dict:
        return request.app.state.consolidations.state(ns, task_id)

    @v1.post("/v1/namespaces/{ns}/chat", response_model=ChatResponse, responses=errors)
    def chat(ns: str, body: ChatRequest, request: Request) -> ChatResponse:
        from .schemas import check_namespace

        check_namespace(ns)
        graph = agent_graph(request.app)
        mode = body.mode or settings.agent.mode
        out = graph.invoke({"namespace": ns, "message": body.message, "mode": mode, "speaker": body.speaker,
                            "addressee": body.addressee},
                           {"configurable": {"thread_id": f"{ns}:{body.thread_id}"}})
        return ChatResponse(answer=out["answer"], mode=mode, adapter=out.get("adapter"), asked_as=out.get("asked_as"),
                            routes=out.get("routes", []),
                            facts=out.get("context", []), written=out.get("written", []),
                            forgotten=out.get("forgotten", []))

    @v1.get("/v1/namespaces/{ns}/topics", response_model=list[TopicInfo], responses=errors)
    def topics(ns: str, svc: Service) -> list[TopicInfo]:
        return svc.topics(ns)

    app.include_router(v1)  # after its routes: include_router copies them
    return app
