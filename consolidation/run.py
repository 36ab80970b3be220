"""One consolidation end to end — what the Celery task calls: facts in, a gated adapter version out."""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from typing import Callable

import torch

from memory_service.errors import Conflict
from memory_service.registry import Registry
from memory_service.schemas import Fact
from memory_service.selection import run_key

from .gate import PROBE, REPLAY, GateResult, GateThresholds, decide, probe_ok, reading_items, recall_checked
from .model import BaseModel, generate, model_id
from .synth import QA, askable, build_dataset, covered_ids, neighbours
from .train import Recipe, Stack, Trainer, exact_rate, first_trainable_layer, make_batches

log = logging.getLogger(__name__)
# per loaded base model: its probe answers and which are right (computed once, before any adapter wraps it)
_probe_base: dict[int, tuple[list[str], list[bool]]] = {}


@dataclass
class RunOutcome:
    status: str  # published | rejected | skipped | empty | conflict (another worker published first)
    namespace: str
    topic: str
    version: int | None = None
    fact_ids: list[str] = field(default_factory=list)
    gate: dict | None = None
    training: dict | None = None
    run_key: str | None = None
    seconds: float = 0.0
    reasons: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


_replay_base: dict[tuple[int, int, int], list[QA]] = {}
REPLAY_TOKENS = 24  # the base model's replayed answers are its first 24 tokens


def replay_examples(base: BaseModel, n: int, reading: int = 0) -> list[QA]:
    """The base model's own answers to `n` unrelated questions and to `reading` questions asked over notes
    (computed once per loaded model, before any adapter wraps it)."""
    key = (id(base.model), n, reading)
    if (n or reading) and key not in _replay_base:
        asked = [(q, None) for q in REPLAY[:n]] + [(q, notes) for notes, q in reading_items(reading)]
        answers = generate(base.model, base.tokenizer, [q for q, _ in asked], max_new_tokens=REPLAY_TOKENS,
                           context=[c for _, c in asked])
        # an answer cut at the limit is trained without an end of turn: with one, replay taught the adapter to
        # stop mid-sentence, and general answers came out cut short ("Kenya is a continent.")
        cut = [len(base.tokenizer(a, add_special_tokens=False)["input_ids"]) >= REPLAY_TOKENS - 1 for a in answers]
        _replay_base[key] = [QA("", q, a, a, "replay", context=c, ends=not was_cut)
                             for (q, c), a, was_cut in zip(asked, answers, cut) if a]
    return _replay_base.get(key, [])


def probe_base_answers(base: BaseModel, pm) -> tuple[list[str], list[bool]]:
    """The base model's probe answers and which are right (peft wraps base.model in place, so the adapter is
    switched off)."""
    key = id(base.model)
    if key not in _probe_base:
        with pm.disable_adapter():
            answers = generate(pm, base.tokenizer, [q for q, _ in PROBE], max_new_tokens=16)
        _probe_base[key] = (answers, [probe_ok(a, e) for a, (_, e) in zip(answers, PROBE)])
    return _probe_base[key]


def teacher_forced(stack: Stack, tok, qas: list[QA], device) -> list[bool]:
    """Per question: is every answer token the argmax? Then greedy decoding reproduces the answer."""
    if not qas:
        return []
    with torch.no_grad():
        batches = make_batches(tok, qas, 32, tok.pad_token_id)
        for b in batches:
            b.ids, b.answer_mask = b.ids.to(device), b.answer_mask.to(device)
            b.cached = stack.lower(b.ids)
        return exact_rate(stack, batches)[1]


def probe_adapter_answers(pm, base: BaseModel, stack: Stack) -> tuple[list[bool], list[bool]]:
    """(base right, adapter right) per probe question. Where the adapter still produces the base model's own
    answer under teacher forcing, its greedy answer is that answer: only the others are generated."""
    answers, base_ok = probe_base_answers(base, pm)
    qas = [QA("", q, a, e, "probe") for (q, e), a in zip(PROBE, answers)]
    same = teacher_forced(stack, base.tokenizer, qas, base.device)
    adapter_ok = [ok for ok in base_ok]
    todo = [i for i, s in enumerate(same) if not s]
    if todo:
        got = generate(pm, base.tokenizer, [PROBE[i][0] for i in todo], max_new_tokens=16)
        for i, a in zip(todo, got):
            adapter_ok[i] = probe_ok(a, PROBE[i][1])
    return base_ok, adapter_ok


def gate_adapter(pm, base: BaseModel, ds, train_exact: list[bool], recipe: Recipe,
                 thresholds: GateThresholds) -> GateResult:
    tok = base.tokenizer
    taught_idx = [i for i, qa in enumerate(ds.train) if qa.kind == "taught"]
    taught = [ds.train[i] for i in taught_idx]
    taught_ok = recall_checked(pm, tok, taught, [train_exact[i] for i in taught_idx])
    stack = Stack(base.model, first_trainable_layer(base, recipe))
    valid_ok = recall_checked(pm, tok, ds.validation, teacher_forced(stack, tok, ds.validation, base.device))
    failed = sorted({qa.fact_id for qa, ok in zip(taught + ds.validation, taught_ok + valid_ok) if not ok})
    _, base_ok = probe_base_answers(base, pm)
    recall = decide(taught_ok, valid_ok, base_ok, base_ok, thresholds, failed)
    if not recall.passed:  # more training comes first; the probe is only worth checking for a candidate
        return recall
    base_ok, adapter_ok = probe_adapter_answers(pm, base, stack)
    return decide(taught_ok, valid_ok, base_ok, adapter_ok, thresholds, failed)


def consolidate(ns: str, topic: str, facts: list[Fact], *, base: BaseModel, registry: Registry,
                recipe: Recipe | None = None, thresholds: GateThresholds | None = None,
                progress: Callable[[dict], None] | None = None, extra: dict | None = None,
                llm=None) -> RunOutcome:
    """Train, gate and (if it passes) publish one adapter version for `facts` of (ns, topic). `llm`: a
    memory_service.llm.LLM that writes more training questions, when one is configured."""
    t0 = time.perf_counter()
    recipe = recipe or Recipe()
    thresholds = thresholds or GateThresholds()
    ids = [f.id for f in facts]
    if not facts:
        return RunOutcome("empty", ns, topic, reasons=["no facts selected"])
    # the endpoint's model is part of the key: turning it on (or changing it) retrains what it would change
    key = run_key(ns, topic, facts, recipe.to_dict() | ({"question_llm": llm.model} if llm else {}),
                  model_id(base.name))
    current = registry.current(ns, topic)
    if current is not None and current.manifest().get("run_key") == key:
        return RunOutcome("skipped", ns, topic, current.version, ids, run_key=key,
                          reasons=["current version already holds exactly these facts"])
    ds = build_dataset(facts, recipe.taught_forms, llm.questions if llm else None, short=recipe.short_answers,
                       augment=recipe.augment, restate=recipe.restate)
    held = covered_ids(facts, ds)
    if not ds.train:
        return RunOutcome("empty", ns, topic, reasons=["nothing to ask about in these facts (they stay short-term)"])
    # The base model is shared by every run in this process: peft wraps it for this run and unload() at the
    # end gives it back untouched, even if the run fails.
    trainer = Trainer(base, ds.train + replay_examples(base, recipe.replay, recipe.replay_reading), recipe, progress,
                      groups=neighbours(facts) if recipe.neighbours else None)
    pm = trainer.pm
    try:
        # Train only until the cheap teacher-forced check reaches the gate's bar, gate, and go on training
        # for a few epochs at a time while recall (not the probe) is what fails.
        trainer.train_until(max(thresholds.taught, recipe.stop_at_gate))
        while True:
            if progress:
                progress({"phase": "gate", "epoch": trainer.epoch})
            gate = gate_adapter(pm, base, ds, trainer.rows, recipe, thresholds)
            recall_only = all(not r.startswith("probe") for r in gate.reasons)
            if gate.passed or trainer.exhausted or not recall_only:
                break
            trainer.train_until(1.0, extra_epochs=recipe.more_epochs)
        result = trainer.result()
        training = {"epochs": result.epochs, "steps": result.steps, "loss": round(result.loss, 5),
                    "seconds": round(result.seconds, 2), "examples": len(ds.train),
                    "llm_questions": ds.generated, "history": result.history}
        if not gate.passed:
            log.warning("%s/%s rejected: %s", ns, topic, "; ".join(gate.reasons))
            return RunOutcome("rejected", ns, topic, None, ids, gate.to_dict(), training, key,
                              time.perf_counter() - t0, gate.reasons)
        manifest = {
            "base_model": model_id(base.name), "recipe": recipe.to_dict(), "run_key": key,
            "facts": [{"id": f.id, "text": f.text, "subject": f.subject, "relation": f.relation,
                       "object": f.object} for f in facts],
            # what it may be asked in place of a question worded otherwise (agent.questions.TaughtQuestions)
            "questions": [{"fact": fid, "question": q, "names": names, "answer": answer}
                          for fid, q, names, answer in askable(ds, facts)],
            "gate": gate.to_dict(), "training": training, "created_at": time.time(), **(extra or {}),
        }
        try:
            ref = registry.publish(ns, topic, lambda d: pm.save_pretrained(str(d)), manifest)
        except Conflict as exc:  # a shared registry: another worker published this topic first
            log.warning("%s/%s not published: %s", ns, topic, exc)
            return RunOutcome("conflict", ns, topic, None, ids, gate.to_dict(), training, key,
                              time.perf_counter() - t0, [str(exc)])
        return RunOutcome("published", ns, topic, ref.version, held, gate.to_dict(), training, key,
                          time.perf_counter() - t0)
    finally:
        pm.unload()
