"""Graph nodes: module-level functions of (state, ctx) returning partial updates, each callable alone; the heavy
objects live in AgentContext, which agent.graph.compile_graph binds to every node."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone

from language.answer_kinds import about_memory, grounded, held_words, may_answer, repeats
from language.intake import reads_as_question
from language.matching import states
from memory_service.adapter_files import AdapterRef
from memory_service.errors import InvalidInput, NotFound
from memory_service.registry import Registry
from memory_service.schemas import Fact, parent_topic
from memory_service.service import MemoryService

from .questions import QuestionBank, TaughtQuestions
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
    rag_k: int = 3
    rag_min_score: float = -1.0  # facts below this cosine stay out of the prompt
    hybrid_context: str = "all"  # all | unheld (settings.AgentSettings.hybrid_context)
    hybrid_rule: str = "notes"  # grounded | confident | notes (settings.AgentSettings.hybrid_rule)
    hybrid_trust: float = 0.8  # settings.AgentSettings.hybrid_trust, for hybrid_rule="confident"
    full_limit: int = 400  # the full-context baseline puts at most this many facts in the prompt
    max_new_tokens: int = 32
    questions: QuestionBank | None = None  # rag and hybrid read the notes by the questions they answer first
    lookup: bool = True  # settings.AgentSettings.lookup: whether they do (needs `questions`)
    question_min_score: float = 0.40  # settings.AgentSettings.question_min_score
    taught: TaughtQuestions | None = None  # adapters are asked the taught question nearest the asked one
    _vectors: dict = field(default_factory=dict)
    _active: dict = field(default_factory=dict)  # ns -> (generation, {topic: active facts})
    _held: dict = field(default_factory=dict)  # ns -> (generation, the words of its active facts)

    def embed(self, text: str):
        """The question's embedding, computed once per turn for both recall and routing."""
        if text not in self._vectors:
            if len(self._vectors) > 256:
                self._vectors.clear()
            self._vectors[text] = self.service.embedder.embed_one(text)
        return self._vectors[text]


def as_said(svc: MemoryService, ns: str, hits) -> list[tuple[Fact, float]]:
    """Recall hits with each fact read from a statement replaced by the statement itself, once, at the rank of
    its best hit. A fact read by the parse says part of what was said, sometimes garbled ("Tessaly is claiming
    at the quiz."); the words themselves say all of it ("Anyway, I've lived in Lowhithe since 2016, so I'm
    claiming local status at the quiz."), and a small model reads them better than three partial rewordings.
    A statement no longer active (a move superseded it) leaves the fact as it is."""
    out: dict[str, tuple[Fact, float]] = {}
    statements: dict[str, Fact | None] = {}
    for h in hits:
        fact = h.fact
        if fact.derived_from:
            if fact.derived_from not in statements:
                try:
                    said = svc.get(ns, fact.derived_from)
                except NotFound:
                    said = None
                statements[fact.derived_from] = said if said is not None and said.status == "active" else None
            fact = statements[fact.derived_from] or fact
        out.setdefault(fact.id, (fact, h.score))
    # a statement shown as the context of the next one ("My brother's Dorran. He's head chef ...") goes once
    shown = {(f.speaker, f.context) for f, _ in out.values() if f.context}
    return [(f, score) for f, score in out.values() if (f.speaker, f.text) not in shown]


def observe(state: AgentState, ctx: AgentContext) -> dict:
    """Keep what the message states (every statement verbatim, the facts read from it); what it asks is
    this turn's question. A message that states and asks ("I moved to Oslo. Any cafes there?") does both."""
    msg = state["message"]
    if state.get("mode", "hybrid") not in MODES:
        raise InvalidInput(f"invalid mode {state.get('mode')!r}: one of {', '.join(MODES)}", field="mode")
    turn = {"role": "user", "content": msg}
    speaker = state.get("speaker") or "user"
    # every message is read, a one-sentence question too: "What a week, I started at Brisk Dental." states, and
    # "Did I mention my dentist is Oriel Tansby?" states and asks (language.intake)
    out = ctx.service.write_message(state["namespace"], msg, speaker=speaker, said_at=said_at(state), source="chat",
                                    addressee=state.get("addressee"))
    written = [{"id": s.id, "text": s.text, "outcome": s.outcome.value, "topic": s.topic, "kind": s.kind,
                "supersedes": s.supersedes} for s in out.stored]
    # nothing stated and nothing asked ("Hi!"): the model answers the message itself. A transcript's
    # speakers talk to each other, not to the agent: their questions are not put to it.
    question = "" if speaker != "user" else (" ".join(out.questions) or (
        "" if out.stored or out.forgotten else msg))
    asked = bool(out.questions) or reads_as_question(question)  # a request ("Tell me ...") is asked too
    forgotten = [f.model_dump(mode="json") for f in out.forgotten]
    return {"written": written, "forgotten": forgotten, "question": question, "asked": asked,
            "messages": [turn]}


def said_at(state: AgentState) -> datetime | None:
    """When the message was said, UTC when the state's time names no zone; None: the store says now."""
    at = datetime.fromisoformat(state["said_at"]) if state.get("said_at") else None
    if at is not None and at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    return at


def asked_question(state: AgentState) -> str:
    """The turn's question when it asks one, else "": recall and routing run only for a question."""
    question = state.get("question", state["message"])
    return question if question and state.get("asked", reads_as_question(question)) else ""


def recall(state: AgentState, ctx: AgentContext) -> dict:
    """Short-term search; it heats what it finds, which is what makes topics due for consolidation."""
    question = asked_question(state)
    if not question:
        return {"hits": [], "world": False}
    ns = state["namespace"]
    if not about_memory(question, held_by(ctx, ns)):
        return {"hits": [], "world": True}  # about the world: no note, no adapter answers it
    try:
        hits = ctx.service.recall(ns, question, limit=max(3 * ctx.rag_k, 10), vector=ctx.embed(question))
    except NotFound:  # a namespace with no facts yet
        return {"hits": [], "world": False}
    return {"hits": [{"id": f.id, "text": f.attributed, "score": round(score, 4), "topic": f.topic,
                      "consolidated_in": f.consolidated_in} for f, score in as_said(ctx.service, ns, hits)],
            "world": False}


def route(state: AgentState, ctx: AgentContext) -> dict:
    """The adapters that answer this question (lora and hybrid): none for the world, a statement, or a topic
    no usable adapter covers that matches better than the one chosen."""
    if state.get("mode") not in ("lora", "hybrid") or not (question := asked_question(state)) or state.get("world"):
        return {"routes": [], "route_scores": []}
    ns = state["namespace"]
    refs = usable_adapters(ctx, ns)  # read once per turn (registry and stale set)
    if not refs:
        return {"routes": [], "route_scores": []}
    vector = ctx.embed(question)
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


# What gave an answer, so that a figure says how much of it the weights earned (DESIGN §6):
# lookup: the stored answer of the nearest question the short-term notes answer, no model;
# weights: an adapter, asked the user's question as worded, no notes in the prompt;
# weights-taught: an adapter asked the nearest question it was taught in place of the user's, no notes;
# reading: the model (with or without adapters) reading notes in its prompt; base: the model alone.
SOURCES = ("lookup", "weights", "weights-taught", "reading", "base")


def answer_source(adapter: str | None, notes: bool, taught: bool) -> str:
    """The source of a model's answer: notes in the prompt make it reading, else an adapter's weights (as worded
    or as taught), else the base model."""
    if notes:
        return "reading"
    if adapter:
        return "weights-taught" if taught else "weights"
    return "base"


def respond(state: AgentState, ctx: AgentContext) -> dict:
    """The answer in the turn's mode, after what the message kept and forgot is said back."""
    mode = state.get("mode", "hybrid")
    question = state.get("question", state["message"])
    noted = said_back(state)
    if not question:
        return {"answer": noted, "context": [], "adapter": None, "source": None,
                "messages": [{"role": "assistant", "content": noted}]}
    context = select_context(ctx, state, mode)
    routed = [ctx.registry.ref(state["namespace"], r["topic"], r["version"]) for r in state.get("routes", [])]
    asking = Asking(question, routed, *ask_as_taught(ctx, routed, question))
    prompt_ctx = facts_prompt(context)
    looked_up, notes = None, bool(prompt_ctx)
    if mode in ("rag", "hybrid") and prompt_ctx and ctx.lookup:
        # the question lookup is a way of reading the notes, so rag and hybrid share it and hybrid - rag is what the
        # weights add (DESIGN §6)
        looked_up = answer_by_questions(ctx, state["namespace"], question)
    if looked_up:
        (answer, context), adapter, notes = looked_up, None, False
    elif mode == "hybrid" and ctx.hybrid_rule == "grounded" and prompt_ctx:
        answer, adapter, context = answer_grounded(ctx, state["namespace"], asking, context, prompt_ctx)
        notes = bool(context) and adapter is None
    elif mode == "hybrid" and asking.refs and ctx.hybrid_rule == "confident" and prompt_ctx:
        # the adapters' answer stands when every token has at least hybrid_trust, else adapters and notes
        # answer together
        answer, adapter, confidence = asking.answer(ctx, None)
        if confidence >= ctx.hybrid_trust:
            context, notes = [], False
        else:
            answer, adapter, _ = asking.answer(ctx, prompt_ctx)
    else:
        answer, adapter, _ = asking.answer(ctx, prompt_ctx)
    taught = bool(adapter) and asking.asked_as != question
    source = "lookup" if looked_up else answer_source(adapter, notes, taught)
    answer = f"{noted}\n{answer}" if noted else answer
    return {"answer": answer, "context": context, "adapter": adapter, "source": source,
            "asked_as": asking.asked_as if taught else None,
            "messages": [{"role": "assistant", "content": answer, "adapter": adapter, "source": source}]}


def said_back(state: AgentState) -> str:
    """What the message kept ("Noted: ...") and what it asked to forget (deleted, which one, or nothing stored),
    so the user sees what the memory did before any answer."""
    noted = "Noted: " + "; ".join(w["text"] for w in state.get("written", []) if w.get("kind") != "fact") \
        if state.get("written") else ""
    for f in state.get("forgotten", []):
        if f.get("withdrawn"):
            noted += ("\n" if noted else "") + "Not kept: " + "; ".join(f["withdrawn"])
        elif f["deleted"]:
            noted += ("\n" if noted else "") + "Forgotten: " + "; ".join(d["text"] for d in f["deleted"]
                                                                        if not d.get("derived_from"))
        elif f["candidates"]:
            options = " ".join(f"({i}) {c['text']}" for i, c in enumerate(f["candidates"], 1))
            noted += ("\n" if noted else "") + f"Which one should I forget? {options} Nothing was deleted."
        else:
            noted += ("\n" if noted else "") + f"I have nothing stored about {f['request']!r}."
    return noted.strip()


@dataclass
class Asking:
    """What the adapters are asked and whom: the taught rewording (ask_as_taught) until an answer shows it
    was the rewording's, then the question as worded, to the routed adapters, for the rest of the turn."""
    question: str
    routed: list[AdapterRef]
    asked_as: str
    refs: list[AdapterRef]
    told: tuple[str, ...]
    taught_answer: str | None = None  # what the rewording was taught to answer

    def answer(self, ctx: AgentContext, notes: str | None) -> tuple[str, str | None, float]:
        """The adapters' answer; one that repeats a value only the rewording named (told) is the rewording's,
        not the weights': then they are asked the question as worded. Unless it also says what the rewording was
        taught to answer (never a value it names, consolidation.synth.askable): an answer in a whole sentence
        restates the question's names ("Caddoc Velle keeps bees."), and what it adds is the weights'."""
        answer, adapter, confidence = ctx.runtime.answer_one(self.asked_as, self.refs, notes, ctx.max_new_tokens)
        if self.told and repeats(answer, self.told) and not (self.taught_answer
                                                              and states(answer, [self.taught_answer])):
            self.asked_as, self.refs, self.told, self.taught_answer = self.question, self.routed, (), None
            answer, adapter, confidence = ctx.runtime.answer_one(self.question, self.routed, notes,
                                                                 ctx.max_new_tokens)
        return answer, adapter, confidence


def answer_grounded(ctx: AgentContext, ns: str, asking: Asking, context: list[str],
                    prompt_ctx: str) -> tuple[str, str | None, list[str]]:
    """hybrid_rule="grounded", once the question lookup has not answered: (answer, adapter, the notes shown). The
    weights, without the notes, which the adapters would otherwise talk over (docs/results.md, "Hybrid: notes,
    weights, and which one answers"): their answer stands when a retrieved note says it too. Else the notes are read
    by the model alone (a wrong adapter also spoils reading)."""
    question = asking.question
    if asking.refs:
        answer, adapter, _ = asking.answer(ctx, None)
        if grounded(answer, context, question) and answers_as_asked(ctx, ns, answer, question):
            return answer, adapter, []
    answer, adapter, _ = ctx.runtime.answer_one(question, [], prompt_ctx, ctx.max_new_tokens)
    return answer, adapter, context


def answer_by_questions(ctx: AgentContext, ns: str, question: str) -> tuple[str, list[str]] | None:
    """(answer, [the note it comes from]): the short answer of the question nearest the asked one among those the
    namespace's short-term facts answer (agent.questions) whose answer is of the kind asked for (language.answer_kinds.
    may_answer), when it is near enough (question_min_score) and its fact says it as the question asks (grounded:
    of the right kind, not an echo of the question, a whole name). None otherwise."""
    if ctx.questions is None:
        return None
    match = ctx.questions.nearest(active_by_topic(ctx, ns), ctx.embed(question), question, ctx.question_min_score)
    if match is None:
        return None
    answer = f"{match.qa.expected}."
    return (answer, [match.note]) if grounded(answer, [match.note], question) else None


def answers_as_asked(ctx: AgentContext, ns: str, answer: str, question: str) -> bool:
    """Whether an answer that is a stored fact's value answers the question asked: one of the questions its facts
    answer may stand in for it (language.answer_kinds.may_answer). "Tobble." is what the dog is called, not its breed;
    "Brinehook." is where Dorran works, not what he does. An answer that is no fact's value passes."""
    if ctx.questions is None:
        return True
    answered = ctx.questions.answering(active_by_topic(ctx, ns), answer)
    return not answered or any(may_answer(qa.expected, qa.question, question) for qa in answered)


def ask_as_taught(ctx: AgentContext, refs: list[AdapterRef],
                  question: str) -> tuple[str, list[AdapterRef], tuple[str, ...], str | None]:
    """(what to ask, whom, the values the rewording names that the asker did not, what it was taught to answer): the
    taught question nearest the asked one, put to the adapter taught it alone, when it is near enough
    (question_min_score) and its answer of the kind asked for (agent.questions.nearest_fitting); else the question
    as asked, put to `refs`. A small adapter recalls what it was taught when asked as it was taught and rarely when
    asked in other words (docs/results.md, "Asking an adapter what it was taught"); which adapter was taught the
    nearest question also settles a merge's doubt. The taught questions do not name their own answers
    (consolidation.synth.askable), and an answer that repeats a value only the rewording named is not used
    (respond): the answer is the weights'."""
    if ctx.taught is None or not refs:
        return question, refs, (), None
    match = ctx.taught.nearest(refs, ctx.embed(question), question, ctx.question_min_score)
    if match is None:
        return question, refs, (), None
    return match.question, [match.ref], match.told, match.answer


def uncovered_score(ctx: AgentContext, ns: str, vector, refs: list[AdapterRef]) -> tuple[str, float] | None:
    """Best (topic, score) among the namespace's topics that have no usable adapter. (New facts of a topic
    that has one are not counted: hybrid mode puts them in the prompt next to the adapter.)"""
    covered = {parent_topic(r.topic) for r in refs}
    best = None
    for topic, (key, facts) in active_by_topic(ctx, ns).items():
        if topic in covered:
            continue
        score = ctx.router.facts_score(key, facts, vector)
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


def held_by(ctx: AgentContext, ns: str) -> frozenset[str]:
    """The words of the namespace's active facts and the names of their speakers (language.answer_kinds.held_words:
    "What did Caroline research?" is about the memory when Caroline's own words are stored, whatever they name),
    recomputed when its facts change."""
    gen = ctx.service.heat.generation(ns)
    cached = ctx._held.get(ns)
    if cached is None or cached[0] != gen:
        facts = [f for _, fs in active_by_topic(ctx, ns).values() for f in fs]
        texts = [f.text for f in facts] + sorted({f.speaker for f in facts if f.speaker and f.speaker != "user"})
        ctx._held[ns] = cached = (gen, held_words(texts))
    return cached[1]


def facts_prompt(context: list[str]) -> str | None:
    """The facts put before the question (rag, hybrid, full)."""
    return "\n".join(context) if context else None


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
    hits = [h for h in state.get("hits", []) if h["score"] >= ctx.rag_min_score]
    if mode == "rag":
        return [h["text"] for h in hits[: ctx.rag_k]]
    if mode == "hybrid" and ctx.hybrid_context == "all":
        # The adapters add to the notes and take nothing out of the prompt: an adapter that holds a fact still
        # misses it when the question is worded unlike its training questions, and the note then answers
        # (docs/results.md, "Hybrid: notes, weights, and which one answers").
        return [h["text"] for h in hits[: ctx.rag_k]]
    if mode == "hybrid":
        # "unheld": the hedge against a routing miss: a fact leaves the prompt only when an adapter the router
        # chose for this question holds it. Facts of other adapters, of stale versions and not yet consolidated stay.
        chosen = {f"{r['topic']}/v{r['version']}" for r in state.get("routes", [])}
        return [h["text"] for h in hits[: ctx.rag_k] if h.get("consolidated_in") not in chosen]
    if mode == "full":
        try:
            return [f.attributed for f in ctx.service.all_active(state["namespace"])][: ctx.full_limit]
        except NotFound:
            return []
    return []
