"""Plays scenarios against the live services: the memory service (embedded store), Redis, a real Celery worker
and the agent graph on the base model.

A scenario's state changes (what the user says, writes, deletes, updates, consolidations, time) are played once;
at each probe the question is asked in every mode, so all modes answer from exactly the same memory at the same
point of the dialogue. Playing the whole dialogue again per mode would retrain identical adapters once per mode
and change nothing else: asking is read-only apart from heat, and heat does not trigger consolidations here
(they happen where the scenario says, see `eval_settings`).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from consolidation.model import chat_prompt
from language.matching import other_values
from memory_service.errors import NotFound
from memory_service.relay import GROUP, TERMINAL, Consolidations, Relay, ended, wait_for_tasks
from memory_service.schemas import FactIn, parent_topic
from memory_service.service import MemoryService
from memory_service.settings import Settings
from workers.launch import start_worker, stop_worker

from .disjoint import clashes
from .locomo_f1 import locomo_f1
from .metrics import ProbeResult
from .provenance import provenance
from .report import write_report
from .scenario import Advance, Consolidate, Delete, Probe, Remember, Say, Scenario, Step, Update
from .scoring import LEAK_TAGS, normalize, score

NEVER = 10.0 ** 12  # heat thresholds that no dialogue reaches: consolidation only where the scenario says


def eval_settings(base: Settings, data_dir: Path) -> Settings:
    tag = uuid.uuid4().hex[:8]
    return base.model_copy(update={
        "data_dir": data_dir,
        "redis": base.redis.model_copy(update={"key_prefix": f"engram-eval-{tag}"}),
        "qdrant": base.qdrant.model_copy(update={"path": data_dir / "qdrant"}),
        "heat": base.heat.model_copy(update={"min_facts": 10 ** 9, "max_wait_s": NEVER}),
        "consolidation": base.consolidation.model_copy(update={"queue": f"eval-{tag}"}),
    })


def swapped_object(old_text: str, old_object: str | None, new_text: str) -> str | None:
    """'X lives in A.' with object 'A' and 'X lives in B.' -> 'B'; None when the statements differ otherwise."""
    if not old_object or old_object not in old_text:
        return None
    head, tail = old_text.split(old_object, 1)
    if new_text.startswith(head) and new_text.endswith(tail) and len(new_text) > len(head) + len(tail):
        return new_text[len(head): len(new_text) - len(tail)]
    return None


@dataclass
class Harness:
    """The live services one `engram eval` run plays against, opened once for all its scenarios."""

    settings: Settings
    svc: MemoryService
    graph: object
    consolidations: Consolidations
    relay: Relay
    worker: subprocess.Popen
    offset_s: float = 0.0  # the scenario clock runs ahead of the wall clock by this much
    log_path: Path | None = None
    consolidation_log: list[dict] = field(default_factory=list)
    judge: object = None  # an evals.judge.Judge, when the run has one
    _vectors: dict = field(default_factory=dict)  # text -> embedding, for the echo check (echoes)
    base_prefix: str = "engram"  # the deployment's key prefix, under which the run registers its queue

    @classmethod
    def open(cls, settings: Settings, work_dir: Path) -> "Harness":
        from agent.graph import build_graph

        work_dir.mkdir(parents=True, exist_ok=True)
        s = eval_settings(settings, work_dir)
        svc = MemoryService(s)
        harness_clock = {"offset": 0.0}
        svc.heat.clock = lambda: time.time() + harness_clock["offset"]
        log_path = work_dir / "worker.log"
        worker = start_worker(s, log_path, f"eval-{os.getpid()}@%h", broker_url=svc.redis_url)
        # `engram status` of the deployment sees this evaluation's worker and its training (memory_service.status)
        svc.heat.r.hset(f"{settings.redis.key_prefix}:evals", s.consolidation.queue,
                        json.dumps({"pid": os.getpid(), "started_at": time.time(), "data_dir": str(work_dir)}))
        cons = Consolidations(svc)
        relay = Relay(cons, block_ms=300).start()
        graph = build_graph(s, svc)
        h = cls(s, svc, graph, cons, relay, worker, log_path=log_path, base_prefix=settings.redis.key_prefix)
        h._clock = harness_clock
        return h

    def close(self) -> None:
        self.relay.stop()
        stop_worker(self.worker)
        self.svc.heat.r.hdel(f"{self.base_prefix}:evals", self.settings.consolidation.queue)
        self.svc.close()
        self.svc.heat.drop_prefix()

    def advance(self, seconds: float) -> None:
        self._clock["offset"] += seconds

    # consolidation ------------------------------------------------------------------------------------
    def consolidate(self, ns: str, topics: list[str] | None, timeout_s: float, on_wait=None) -> list[dict]:
        """Request the topics' consolidations (all topics of the namespace by default) and wait until every
        task of the namespace (and any follow-up it coalesced) has finished and its result is applied."""
        topics = topics or sorted({parent_topic(t.topic) for t in self.svc.topics(ns)})
        for t in topics:
            self.consolidations.request(ns, t, reason="manual")
        return self.wait_idle(ns, timeout_s, on_wait)

    def wait_idle(self, ns: str, timeout_s: float, on_wait=None) -> list[dict]:
        seen: set[str] = {e["task_id"] for e in self.consolidation_log}
        quiet_since: list[float] = []

        def check(states: list[dict]) -> None:
            if self.worker.poll() is not None:
                raise RuntimeError(f"the Celery worker exited; see {self.log_path}")
            if on_wait:
                on_wait(states)

        def idle(states: list[dict]) -> bool:
            if not (ended(states) and self._relay_caught_up()):
                quiet_since.clear()
                return False
            quiet_since[:] = quiet_since or [time.time()]
            return time.time() - quiet_since[0] > 1.0  # a follow-up run is enqueued by the relay, not at once

        states = wait_for_tasks(lambda t: self.consolidations.state(ns, t), lambda: self.consolidations.task_ids(ns),
                                timeout_s, done=idle, on_poll=check)
        new = []
        for s in states:
            if s["task_id"] in seen or s["state"] == "COALESCED":
                continue
            info = s.get("info") or {}
            new.append({"task_id": s["task_id"], "namespace": ns, "topic": s["topic"], "state": s["state"],
                        "status": info.get("status"), "facts": s.get("facts"), "version": info.get("version"),
                        "gate": info.get("gate"), "reasons": info.get("reasons"), "seconds": info.get("seconds")})
        self.consolidation_log += new
        return new

    def _relay_caught_up(self) -> bool:
        r = self.svc.heat.r
        stream = self.relay.stream
        if not r.exists(stream):
            return True
        last = r.xinfo_stream(stream)["last-generated-id"]
        for g in r.xinfo_groups(stream):
            if g["name"].decode() == GROUP:
                return g["pending"] == 0 and g["last-delivered-id"] == last
        return False

    # memory edits --------------------------------------------------------------------------------------
    def find_fact(self, ns: str, ref: str):
        """A fact by id, by exact text, or else the active fact nearest to the text (cosine >= 0.8). A statement
        in the user's own words ("I drive a red Halvik.") is also tried as the agent stores it ("The user
        drives a red Halvik.")."""
        from language.intake import read_message

        forms = [ref] + [t.text for s in read_message(ref).statements for t in s.triples]
        active = self.svc.all_active(ns)
        for form in forms:
            for f in active:
                if form in (f.id, f.text):
                    return f
        for form in forms:
            hits = self.svc.recall(ns, form, limit=1)
            if hits and hits[0].score >= 0.8:
                return hits[0].fact
        raise LookupError(f"no active fact in {ns!r} matches {ref!r}")

    def all_facts(self, ns: str) -> list:
        """Every fact of the namespace, whatever its status (superseded and deleted values are candidates too)."""
        facts, offset = [], None
        while True:
            page, offset = self.svc.list(ns, status=None, limit=1000, offset=offset)
            facts += page
            if offset is None:
                return facts

    def rivals(self, ns: str, answers: list[str]) -> list[str]:
        """The other candidate values for a probe whose right answers are `answers`: the objects of the
        namespace's facts (any status) with the relation of a fact that has one of them as its object (facts
        without a relation: the same topic). An answer that names one of these is wrong (strict scoring)."""
        try:
            facts = self.all_facts(ns)
        except NotFound:
            return []
        keys = {normalize(a) for a in answers}
        asked = [f for f in facts if f.object and normalize(f.object) in keys]
        pools = {(f.relation, None) if f.relation else (None, f.topic) for f in asked}
        values = [f.object for f in facts if f.object and ((f.relation, None) in pools or (None, f.topic) in pools)]
        return [v for v in other_values(answers[0], values) if all(other_values(a, [v]) for a in answers)] \
            if answers else []

    def echoes(self, ns: str, question: str) -> str | None:
        """The question an adapter of `ns` was taught (its manifest's list, the LLM's questions included when it
        wrote them) that `question` echoes (evals.disjoint.clashes), if one does."""
        from agent.nodes import usable_adapters

        ctx = self.graph.engram_context
        taught = sorted({q["question"] for ref in usable_adapters(ctx, ns)
                         for q in ref.manifest().get("questions", [])})
        found = clashes([question], taught, self._embed_cached)
        return found[0].synthesized if found else None

    def _embed_cached(self, texts: list[str]):
        missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if missing:
            self._vectors.update(zip(missing, self.svc.embedder.embed(missing), strict=True))
        return np.stack([self._vectors[t] for t in texts])

    def update(self, ns: str, old: str, new: str) -> None:
        """Supersede `old` with the statement `new`. When the old fact has subject and relation and `new` only
        swaps its object ("X lives in A." -> "X lives in B."), the new fact keeps them: the service's supersede
        path. Otherwise the old fact is deleted and the new one written to its topic."""
        fact = self.find_fact(ns, old)
        obj = swapped_object(fact.text, fact.object, new)
        if fact.subject and fact.relation and obj:
            self.svc.write(ns, [FactIn(text=new, topic=fact.topic, subject=fact.subject, relation=fact.relation,
                                       object=obj)])
        else:
            self.svc.delete(ns, fact.id)
            self.svc.write(ns, [FactIn(text=new, topic=fact.topic)])

    # asking --------------------------------------------------------------------------------------------
    def ask(self, ns: str, question: str, mode: str, thread: str) -> dict:
        t0 = time.perf_counter()
        out = self.graph.invoke({"namespace": ns, "message": question, "mode": mode},
                                {"configurable": {"thread_id": thread}})
        latency = (time.perf_counter() - t0) * 1000
        from agent.nodes import facts_prompt

        tok = self.graph.engram_context.runtime.base.tokenizer
        prompt = chat_prompt(tok, question, facts_prompt(out.get("context", [])))
        return {"answer": out["answer"], "latency_ms": latency, "prompt_tokens": len(tok(prompt).input_ids),
                "routes": [parent_topic(r["topic"]) for r in out.get("routes", [])], "asked_as": out.get("asked_as"),
                "source": out.get("source")}


def scoped(scenario: str, ns: str) -> str:
    """Each scenario plays in its own namespaces, so scenarios of one run cannot see each other's facts."""
    return f"{scenario}.{ns}"[:128]


@dataclass
class FailedStep:
    """A turn that could not be played: the rest of its scenario is skipped, the other scenarios still run."""

    scenario: str
    path: str
    line: int
    action: str
    reason: str
    skipped_steps: int

    def __str__(self) -> str:
        return (f"{self.path}:{self.line}: {self.action} failed: {self.reason} "
                f"({self.skipped_steps} later step(s) of {self.scenario} skipped)")


def play(h: Harness, sc: Scenario, modes: list[str], timeout_s: float,
         on_step=None, on_wait=None) -> tuple[list[ProbeResult], FailedStep | None]:
    """Play one scenario: one result per probe and mode, and the turn that failed, if one did (the scenario
    stops there). `on_step(step)` after every turn, played or skipped; `on_wait(states)` while a consolidation
    step waits (the tasks' states, Consolidations.state)."""
    results: list[ProbeResult] = []
    steps = list(sc.steps())
    for i, step in enumerate(steps):
        try:
            results += play_step(h, sc, step, modes, timeout_s, on_wait)
        except Exception as exc:  # noqa: BLE001 - any failure of one turn is recorded, never lost
            a = step.action
            failed = FailedStep(sc.name, str(sc.path), a.line, type(a).__name__.lower(),
                                f"{type(exc).__name__}: {exc}", len(steps) - i - 1)
            for rest in steps[i:]:
                if on_step:
                    on_step(rest)
            return results, failed
        if on_step:
            on_step(step)
    return results, None


def play_step(h: Harness, sc: Scenario, step: Step, modes: list[str], timeout_s: float,
              on_wait=None) -> list[ProbeResult]:
    ns, a = scoped(sc.name, step.namespace), step.action
    try:
        if isinstance(a, Say):
            h.graph.invoke({"namespace": ns, "message": a.text, "mode": "hybrid", "speaker": a.speaker,
                            "said_at": a.at, "addressee": a.to},
                           {"configurable": {"thread_id": f"{ns}:dialogue"}})
        elif isinstance(a, Remember):
            facts = [FactIn(text=f.text, topic=f.topic, subject=f.subject, relation=f.relation, object=f.object)
                     for f in a.facts]
            for i in range(0, len(facts), h.settings.max_batch):
                h.svc.write(ns, facts[i:i + h.settings.max_batch])
        elif isinstance(a, Advance):
            h.advance(a.seconds)
        elif isinstance(a, Consolidate):
            if a.wait:
                h.consolidate(ns, list(a.topics) if a.topics else None, timeout_s, on_wait)
            else:
                for t in a.topics or sorted({t.topic for t in h.svc.topics(ns)}):
                    h.consolidations.request(ns, t)
        elif isinstance(a, Delete):
            h.svc.delete(ns, h.find_fact(ns, a.target).id)
        elif isinstance(a, Update):
            h.update(ns, a.old, a.new)
        elif isinstance(a, Probe):
            rivals = () if a.tag in LEAK_TAGS else h.rivals(ns, [*a.expect, *a.aliases])
            echoes = h.echoes(ns, a.question)
            return [replace(probe(h, sc, step, ns, a, mode, rivals, h.judge), echoes=echoes) for mode in modes]
    except NotFound as exc:  # e.g. consolidating a namespace that holds no facts (yet)
        raise LookupError(exc.message) from exc
    return []


def probe(h: Harness, sc: Scenario, step: Step, ns: str, p: Probe, mode: str, rivals=(), judge=None) -> ProbeResult:
    try:
        got = h.ask(ns, p.question, mode, thread=f"{ns}:{mode}")
    except NotFound:  # a namespace that holds nothing yet: the agent has nothing to answer from
        got = {"answer": "", "latency_ms": None, "prompt_tokens": None, "routes": []}
    s = score(p.tag, got["answer"], p.expect, p.aliases, [*p.reject, *rivals])
    return ProbeResult(
        scenario=sc.name, mode=mode, session=step.session, turn=step.turn, tag=p.tag, question=p.question,
        expect=list(p.expect), answer=got["answer"], correct=s.correct, answered=s.answered,
        latency_ms=None if got["latency_ms"] is None else round(got["latency_ms"], 1),
        prompt_tokens=got["prompt_tokens"], expected_topic=p.topic, routed_topics=got["routes"],
        facts_so_far=step.statements_before, namespace=ns, category=p.category, asked_as=got.get("asked_as"),
        source=got.get("source"),
        f1=None if p.category is None else round(locomo_f1(got["answer"], p.expect[0], p.category), 4),
        judged=None if judge is None or p.category is None else judge(p.question, p.expect[0], got["answer"]))


def run_eval(paths: list[str | Path], modes: list[str], out_dir: Path, settings: Settings, console=None,
             timeout_s: float = 14400.0, judge=None) -> tuple[dict[str, Path], list[FailedStep]]:
    """`engram eval`: validate every scenario first (before any model loads), play them, and write the report
    after each scenario (a later failure or interruption loses nothing). Returns the files and the turns that
    failed (each stopped its own scenario only)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from agent.state import MODES

    from .scenario import load_scenarios

    bad = [m for m in modes if m not in MODES]
    if bad or not modes:
        raise ValueError(f"--modes: {', '.join(bad) or 'empty'} not among {', '.join(MODES)}")
    scenarios = load_scenarios(list(paths))
    console = console or Console(stderr=True)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    console.print(f"{len(scenarios)} scenario(s), modes {','.join(modes)}; loading the services and models")
    made_by = provenance()  # the commit the run started from
    h = Harness.open(settings, out_dir / "work")
    h.judge = judge
    results: list[ProbeResult] = []
    failures: list[FailedStep] = []
    written: dict[str, Path] = {}
    try:
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("{task.fields[detail]}"), TimeElapsedColumn())
        with Progress(*columns, console=console) as bar:
            task = bar.add_task("", total=sum(1 for sc in scenarios for _ in sc.steps()), detail="")
            probes = bar.add_task("probes", detail="", total=len(modes) * sum(
                1 for sc in scenarios for st in sc.steps() if isinstance(st.action, Probe)))
            rows: dict[str, int] = {}

            def stepped(step: Step) -> None:
                bar.advance(task)
                if isinstance(step.action, Probe):
                    bar.advance(probes, len(modes))

            for sc in scenarios:
                bar.update(task, description=sc.name)
                got, failed = play(h, sc, modes, timeout_s, on_step=stepped,
                                   on_wait=lambda states: show_consolidations(bar, rows, states))
                results += got
                if failed:
                    failures.append(failed)
                    console.print(f"[red]{failed}[/]")
                if judge is not None:
                    made_by["judge"] = judge.stats()
                written = write_all(out_dir, results, failures, h.consolidation_log, made_by)
    finally:
        h.close()
    return written, failures


def consolidation_line(state: dict) -> tuple[str, str, int | None, int]:
    """(what, detail, total steps, steps done) of a consolidation task for a live progress row: its topic and state,
    and while it trains the epoch and loss, once it ended the version it published or rejected and the gate's
    validation."""
    info, topic = state.get("info") or {}, state.get("topic", state["task_id"])
    if state["state"] == "PROGRESS":
        detail = (f"epoch {info.get('epoch', '-')} loss {info['loss']:.3f}" if isinstance(info.get("loss"), float)
                  else info.get("phase", ""))
        return f"{topic} training", detail, info.get("total_steps"), info.get("step", 0)
    if state["state"] in TERMINAL:
        gate = info.get("gate") or {}
        validation = gate.get("validation")
        detail = " ".join(x for x in (
            info.get("status") or "", f"v{info['version']}" if info.get("version") else "",
            f"validation {validation:.3f}" if isinstance(validation, (int, float)) else "") if x)
        return f"{topic} {state['state'].lower()}", detail, 1, 1
    return f"{topic} {state['state'].lower()}", "", None, 0


def show_consolidations(bar, rows: dict[str, int], states: list[dict]) -> None:
    """One live row per consolidation task in `bar` (a rich Progress): topic, epoch, loss, then its outcome."""
    for st in states:
        if st["state"] == "COALESCED":
            continue
        what, detail, total, done = consolidation_line(st)
        if st["task_id"] not in rows:
            rows[st["task_id"]] = bar.add_task(what, total=total, detail=detail)
        bar.update(rows[st["task_id"]], description=what, detail=detail, total=total, completed=done)


def write_all(out_dir: Path, results: list[ProbeResult], failures: list[FailedStep], log: list[dict],
              made_by: dict | None = None) -> dict:
    """results.json, report.md (with failed steps and consolidations), plots, consolidations.json."""
    (out_dir / "consolidations.json").write_text(json.dumps(log, indent=1, default=str) + "\n")
    written = write_report(results, out_dir, title="engram evaluation",
                           failures=[asdict(f) for f in failures], provenance=made_by)
    with open(written["report"], "a", encoding="utf-8") as f:
        f.write("\n" + consolidation_table(log) + "\n")
    return written


def consolidation_table(log: list[dict]) -> str:
    """What each consolidation did: a topic whose adapter failed the gate is answered from short-term facts."""
    lines = ["## Consolidations", "", "| namespace | topic | facts | status | version | taught | validation | "
             "probe kept (of base right) | seconds |", "|---|---|---|---|---|---|---|---|---|"]
    num = lambda x, fmt: format(x, fmt) if isinstance(x, (int, float)) else ""  # noqa: E731
    for e in log:
        g = e.get("gate") or {}
        probe = f"{g.get('probe_adapter', '')}/{g.get('probe_base', '')}" if g else ""
        if g and g.get("regression_ok") is False:
            probe += f" (over the {g.get('probe_allowed_losses')}-loss allowance)"
        lines.append(f"| {e['namespace']} | {e['topic']} | {e.get('facts') or ''} | {e.get('status') or e['state']} "
                     f"| {e.get('version') or ''} | {num(g.get('taught'), '.3f')} | {num(g.get('validation'), '.3f')} "
                     f"| {probe} | {num(e.get('seconds'), '.1f')} |")
    return "\n".join(lines)
