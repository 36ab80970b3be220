"""Messages: kept as said (statements and the facts read from them), or answered by the chat agent."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from ..deps import GraphDep, ServiceDep, SettingsDep
from ..http_errors import ERROR_RESPONSES
from ..schemas import MessageIn, MessageResult, check_namespace

router = APIRouter()


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
    source: str | None = Field(None, description="What gave the answer: lookup (the stored answer of the nearest "
                               "question the notes answer, no model), weights (an adapter, asked as worded), "
                               "weights-taught (an adapter, asked as its nearest taught question), reading (the "
                               "model reading notes), base (the model alone); null: nothing was asked")
    routes: list[dict] = []
    facts: list[str] = Field([], description="Short-term facts put in the prompt")
    written: list[dict] = Field([], description="Facts extracted from the message and written")
    forgotten: list[dict] = Field([], description="What the message asked to forget: deleted, or candidates to "
                                                  "choose from (nothing deleted)")


@router.post("/v1/namespaces/{ns}/messages", status_code=201, response_model=MessageResult,
             responses=ERROR_RESPONSES)
def write_message(ns: str, body: MessageIn, svc: ServiceDep) -> MessageResult:
    """Everything a message states, kept: each statement verbatim (attributed to its speaker) and the facts
    read from it; questions and small talk come back unstored."""
    return svc.write_message(ns, body.text, body.speaker, body.said_at, body.source, body.addressee)


@router.post("/v1/namespaces/{ns}/chat", response_model=ChatResponse, responses=ERROR_RESPONSES)
def chat(ns: str, body: ChatRequest, settings: SettingsDep, graph_of: GraphDep) -> ChatResponse:
    check_namespace(ns)
    graph = graph_of()
    mode = body.mode or settings.agent.mode
    out = graph.invoke({"namespace": ns, "message": body.message, "mode": mode, "speaker": body.speaker,
                        "addressee": body.addressee},
                       {"configurable": {"thread_id": f"{ns}:{body.thread_id}"}})
    return ChatResponse(answer=out["answer"], mode=mode, adapter=out.get("adapter"), asked_as=out.get("asked_as"),
                        source=out.get("source"), routes=out.get("routes", []),
                        facts=out.get("context", []), written=out.get("written", []),
                        forgotten=out.get("forgotten", []))
