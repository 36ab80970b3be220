"""Graph nodes: plain functions of the state returning partial updates. Heavy objects live in AgentContext."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from memory_service.errors import InvalidInput, NotFound
from memory_service.registry import AdapterRef, Registry
from memory_service.schemas import Fact, FactIn, parent_topic
from memory_service.service import MemoryService

from .extract import Extractor, extract_first_person
from .router import Router
from .runtime import AdapterRuntime
from .state import MODES, AgentState

log = logging.getLogger(__name__)


@dataclass
class AgentContext:
    service: MemoryService
    registry: Registry
    router: Router
    runtime: AdapterRuntime
    extractor: Extractor = extract_first_person
    rag_k: int = 3
    full_limit: int = 400  # the full-context baseline puts at most this many facts in the prompt
    max_new_tokens: int = 32
    _vectors: dict = field(default_factory=dict)
    _active: dict = field(default_factory=dict)  # ns -> (generation, {topic: active facts})

    def embed(self, text: str):
        """The question's embedding, computed once per turn for both recall and routing."""
        if text not in self._vectors:
            if len(self._vectors) > 256:
                self._vectors.clear()
            self._vectors[text] = self.service.embedder.embed_one(text)
        return self._vectors[text]


def is_question(message: str) -> bool:
    m = message.strip().lower()
    return m.endswith("?") or bool(re.match(r"^(who|what|where|when|which|how|why|do|does|did|is|are|can)\b", m))


def make_nodes(ctx: AgentContext):
    svc = ctx.service

    def observe(state: AgentState) -> dict:
        msg = state["message"]
        if state.get("mode", "hybrid") not in MODES:
            raise InvalidInput(f"invalid mode {state.get('mode')!r}: one of {', '.join(MODES)}", field="mode")
        turn = {"role": "user", "content": msg}
        if is_question(msg):
            return {"written": [], "messages": [turn]}
        facts = ctx.extractor(msg)
        if not facts:
            return {"written": [], "messages": [turn]}
        results = svc.write(state["namespace"], [FactIn(**f.as_fact(source="chat")) for f in facts])
        written = [{"id": r.id, "text": f.text, "outcome": r.outcome.value, "topic": r.topic,
                    "supersedes": r.supersedes} for r, f in zip(results, facts)]
        return {"written": written, "messages": [turn]}

    def recall(state: AgentState) -> dict:
        """Short-term search; it heats what it finds, which is what makes topics due for consolidation."""
        if state.get("written") or not is_question(state["message"]):
            return {"hits": []}
        try:
            hits = svc.recall(state["namespace"], state["message"], limit=max(ctx.rag_k, 5),
                              vector=ctx.embed(state["message"]))
        except NotFound:  # a namespace with no facts yet
            return {"hits": []}
        return {"hits": [{"id": h.fact.id, "text": h.fact.text, "score": round(h.score, 4), "topic": h.fact.topic,
                          "consolidated_in": h.fact.consolidated_in} for h in hits]}

    def route(state: AgentState) -> dict:
        if state.get("mode") not in ("lora", "hybrid") or not is_question(state["message"]) or state.get("written"):
            return {"routes": [], "route_scores": []}
        ns = state["namespace"]
        refs = usable_adapters(ctx, ns)  # read once per turn (registry and stale set)
        if not refs:
            return {"routes": [], "route_scores": []}
        vector = ctx.embed(state["message"])
        chosen, scores = ctx.router.route(vector, refs)
        # A topic no usable adapter answers for (stale after a delete, rejected by the gate, not consolidated
        # yet) may be the better match: then no adapter answers, the short-term facts do. Without this the
        # question goes to the nearest other topic's adapter, which answers confidently and wrongly.
        uncovered = uncovered_score(ctx, ns, vector, refs)
        if chosen and uncovered is not None and uncovered[1] > chosen[0].score:
            return {"routes": [], "route_scores": [(f"{uncovered[0]} (no adapter)", round(uncovered[1], 4)),
                                                   *scores]}
        return {"routes": [{"adapter": r.ref.name, "topic": r.ref.topic, "version": r.ref.version,
                            "score": round(r.score, 4)} for r in chosen], "route_scores": scores}

    def respond(state: AgentState) -> dict:
        mode = state.get("mode", "hybrid")
        if state.get("written"):
            noted = "; ".join(w["text"] for w in state["written"])
            answer = f"Noted: {noted}"
            return {"answer": answer, "context": [], "adapter": None,
                    "messages": [{"role": "assistant", "content": answer}]}
        context = select_context(ctx, state, mode)
        refs = [ctx.registry.ref(state["namespace"], r["topic"], r["version"]) for r in state.get("routes", [])]
        prompt_ctx = facts_prompt(context)
        (answer,), adapter = ctx.runtime.answer([state["message"]], refs, [prompt_ctx], ctx.max_new_tokens)
        return {"answer": answer, "context": context, "adapter": adapter,
                "messages": [{"role": "assistant", "content": answer, "adapter": adapter}]}

    return observe, recall, route, respond


def uncovered_score(ctx: AgentContext, ns: str, vector, refs: list[AdapterRef]) -> tuple[str, float] | None:
    """Best (topic, cosine) among the namespace's topics that have no usable adapter. (New facts of a topic
    that has one are not counted: hybrid mode puts them in the prompt next to the adapter.)"""
    covered = {parent_topic(r.topic) for r in refs}
    best = None
    for topic, (key, facts) in active_by_topic(ctx, ns).items():
        if topic in covered:
            continue
        score = float(ctx.router.facts_centroid(key, facts) @ vector)
        if best is None or score > best[1]:
            best = (topic, score)
    return best


def active_by_topic(ctx: AgentContext, ns: str) -> dict[str, tuple[tuple, list[Fact]]]:
    """topic -> (key of its fact set, its active facts), read from the store only when the namespace's facts
    changed (the heat tracker's generation counter, bumped by every write and delete in any process), not on
    every question."""
    gen = ctx.service.heat.generation(ns)
    cached = ctx._active.get(ns)
    if cached is None or cached[0] != gen:
        groups: dict[str, list[Fact]] = {}
        for f in ctx.service.all_active(ns):
            groups.setdefault(f.topic, []).append(f)
        keyed = {t: ((ns, t, frozenset(f.id for f in fs)), fs) for t, fs in groups.items()}
        ctx._active[ns] = cached = (gen, keyed)
    return cached[1]


def facts_prompt(context: list[str]) -> str | None:
    """The facts put before the question (rag, hybrid, full)."""
    return "Facts:\n" + "\n".join(f"- {c}" for c in context) if context else None


def usable_adapters(ctx: AgentContext, ns: str) -> list[AdapterRef]:
    """Current versions of the namespace's topics, except stale ones (they hold a deleted fact)."""
    stale = ctx.service.heat.stale(ns)
    refs = []
    for topic in ctx.registry.topics(ns):
        if topic in stale or parent_topic(topic) in stale:
            continue
        ref = ctx.registry.current(ns, topic)
        if ref is not None:
            refs.append(ref)
    return refs


def select_context(ctx: AgentContext, state: AgentState, mode: str) -> list[str]:
    hits = state.get("hits", [])
    if mode == "rag":
        return [h["text"] for h in hits[: ctx.rag_k]]
    if mode == "hybrid":
        # The hedge against a routing miss: a fact leaves the prompt only when an adapter the router chose for
        # this question holds it. Facts of other adapters, of stale versions and not yet consolidated stay.
        chosen = {f"{r['topic']}/v{r['version']}" for r in state.get("routes", [])}
        return [h["text"] for h in hits[: ctx.rag_k] if h.get("consolidated_in") not in chosen]
    if mode == "full":
        try:
            return [f.text for f in ctx.service.all_active(state["namespace"])][: ctx.full_limit]
        except NotFound:
            return []
    return []
