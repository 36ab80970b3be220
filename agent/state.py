"""The graph's state: plain data, one turn at a time; `messages` accumulates over a thread (checkpointed)."""

from __future__ import annotations

import operator
from typing import Annotated, TypedDict

from memory_service.settings import MODES, Mode  # noqa: F401  (the one list of recall modes)


class AgentState(TypedDict, total=False):
    namespace: str
    mode: Mode
    message: str  # this turn's message
    speaker: str  # who said it: "user" (default) or a named speaker of a transcript
    addressee: str | None  # whom a transcript's speaker talks to ("you")
    question: str  # what of the message is asked ("" when it only states things)
    asked: bool  # the question is one (or a request to the agent), so recall and routing run for it
    said_at: str | None  # when it was said (ISO time); default: now
    messages: Annotated[list[dict], operator.add]  # the thread: {"role", "content", ...}
    written: list[dict]  # facts extracted and written this turn
    forgotten: list[dict]  # what the message asked to forget: {"request", "deleted", "candidates"}
    world: bool  # the question names nothing the memory holds and not the user: it is about the world
    hits: list[dict]  # short-term facts recalled: {"id", "text", "score", "topic", "consolidated_in"}
    routes: list[dict]  # adapters chosen: {"adapter", "topic", "version", "score"}
    route_scores: list[tuple[str, float]]  # every candidate adapter's score
    context: list[str]  # facts put in the prompt
    answer: str
    adapter: str | None  # the peft adapter (or merge) that answered
    asked_as: str | None  # the taught question the adapter was asked in place of the question (None: as asked)
    source: str  # what gave the answer: one of SOURCES (agent.nodes.answer_source)
