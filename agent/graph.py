"""build_graph(settings): the compiled LangGraph StateGraph observe -> recall -> route -> respond, with a
SQLite checkpointer under the data dir so a thread survives a restart."""

from __future__ import annotations

import sqlite3
from functools import partial

from langgraph.graph import END, START, StateGraph

from memory_service.events import Keys
from memory_service.registry import open_registry
from memory_service.service import MemoryService
from memory_service.settings import Settings

from .nodes import AgentContext, observe, recall, respond, route
from .questions import QuestionBank, TaughtQuestions
from .router import Router
from .runtime import AdapterRuntime
from .state import AgentState


def make_context(settings: Settings, service: MemoryService, base=None) -> AgentContext:
    """The heavy parts: the base model (packaged SmolLM2 unless given), router and adapter runtime."""
    from consolidation.model import load_base, set_threads

    a = settings.agent
    set_threads(settings.torch_threads)
    base = base or load_base(settings.base_model, settings.device, settings.model_cache_dir, settings.dtype,
                             settings.pack_weights)
    # a shared (object storage) registry is listed again only when the event stream moved
    registry = open_registry(settings, changed=newest_event(service.heat.r, Keys(settings.redis.key_prefix)))
    ctx = AgentContext(
        service=service, registry=registry,
        router=Router(registry, service.embedder, a.route_min_score, a.route_margin, a.route_max_k),
        runtime=AdapterRuntime(base, registry, a.max_loaded_adapters, batch_size=a.batch_size,
                               batch_wait_ms=a.batch_wait_ms), rag_k=a.rag_k, rag_min_score=a.rag_min_score,
        hybrid_context=a.hybrid_context, hybrid_rule=a.hybrid_rule, hybrid_trust=a.hybrid_trust,
        max_new_tokens=a.max_new_tokens,
        questions=QuestionBank(service.embedder, settings.consolidation.taught_forms),
        question_min_score=a.question_min_score, lookup=a.lookup,
        taught=TaughtQuestions(service.embedder) if a.ask_as_taught else None,
    )
    return ctx


def compile_graph(ctx: AgentContext, checkpointer=None):
    """observe -> recall -> route -> respond, each node bound to `ctx` here rather than passed as langgraph's
    runtime context on every invoke: the callers (chat, demo, evals, bench, the API, which never imports the
    agent) invoke with state and config alone, and a thread's checkpoints hold no context either way."""
    g = StateGraph(AgentState)
    g.add_node("observe", partial(observe, ctx=ctx))
    g.add_node("recall", partial(recall, ctx=ctx))
    g.add_node("route", partial(route, ctx=ctx))
    g.add_node("respond", partial(respond, ctx=ctx))
    g.add_edge(START, "observe")
    g.add_edge("observe", "recall")
    g.add_edge("recall", "route")
    g.add_edge("route", "respond")
    g.add_edge("respond", END)
    return g.compile(checkpointer=checkpointer)


def sqlite_checkpointer(settings: Settings):
    from langgraph.checkpoint.sqlite import SqliteSaver

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(settings.data_dir / "threads.sqlite"), check_same_thread=False)
    return SqliteSaver(conn)


def build_graph(settings: Settings, service: MemoryService | None = None, base=None):
    """The agent graph on the service (opened here if not given). Invoke with
    {"namespace", "message", "mode"} and config {"configurable": {"thread_id": ...}}."""
    service = service or MemoryService(settings)
    ctx = make_context(settings, service, base)
    graph = compile_graph(ctx, sqlite_checkpointer(settings))
    graph.engram_context = ctx  # for callers that want the runtime's stats or the registry
    return graph


def newest_event(r, keys: Keys):
    """A token that moves whenever anything (an adapter.published event among others) enters the event stream."""
    import redis

    def token():
        try:
            got = r.xrevrange(keys.events, count=1)
        except redis.RedisError:
            return None  # then the listing's max age decides
        return got[0][0] if got else None
    return token
