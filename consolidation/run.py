"""One consolidation end to end — what the Celery task calls: facts in, a gated adapter version out."""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from typing import Callable

import torch

from memory_service.registry import Registry
from memory_service.schemas import Fact
from memory_service.selection import run_key

from .gate import PROBE, REPLAY, GateResult, GateThresholds, decide, probe_ok, recall_checked
from .model import BaseModel, generate, model_id
from .synth import QA, build_dataset
from .train import Recipe, Stack, Trainer, exact_rate, first_trainable_layer, make_batches

log = logging.getLogger(__name__)
_probe_base: dict[int, list[bool]] = {}  # base model's probe answers, computed once per loaded model


@dataclass
class RunOutcome:
    status: str  # published | rejected | skipped | empty
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


_replay_base: dict[tuple[int, int], list[QA]] = {}


def replay_examples(base: BaseModel, n: int) -> list[QA]:
    """The base model's own answers to unrelated questions (computed once per loaded model, before any
    adapter wraps it)."""
    key = (id(base.model), n)
    if n and key not in _replay_base:
        qs = REPLAY[:n]
        answers = generate(base.model, base.tokenizer, qs, max_new_tokens=24)
        _replay_base[key] = [QA("", q, a, a, "replay") for q, a in zip(qs, answers) if a]
    return _replay_base.get(key, [])


def probe_base_answers(base: BaseModel, pm) -> list[bool]:
    """The base model's probe answers (peft wraps base.model in place, so the adapter is switched off)."""
    key = id(base.model)
    if key not in _probe_base:
        with pm.disable_adapter():
            answers = generate(pm, base.tokenizer, [q for q, _ in PROBE], max_new_tokens=16)
        _probe_base[key] = [probe_ok(a, e) for a, (_, e) in zip(answers, PROBE)]
    return _probe_base[key]


def gate_adapter(pm, base: BaseModel, ds, train_exact: list[bool], recipe: Recipe,
                 thresholds: GateThresholds) -> GateResult:
    tok = base.tokenizer
    taught_idx = [i for i, qa in enumerate(ds.train) if qa.kind == "taught"]
    taught = [ds.train[i] for i in taught_idx]
    taught_ok = recall_checked(pm, tok, taught, [train_exact[i] for i in taught_idx])
    stack = Stack(base.model, first_trainable_layer(base, recipe))
    with torch.no_grad():
        batches = make_batches(tok, ds.paraphrase, 32, tok.pad_token_id)
        for b in batches:
            b.ids, b.answer_mask = b.ids.to(base.device), b.answer_mask.to(base.device)
            b.cached = stack.lower(b.ids)
        para_tf = exact_rate(stack, batches)[1] if batches else []
    para_ok = recall_checked(pm, tok, ds.paraphrase, para_tf)
    failed = sorted({qa.fact_id for qa, ok in zip(taught + ds.paraphrase, taught_ok + para_ok) if not ok})
    probe_base = probe_base_answers(base, pm)
    recall = decide(taught_ok, para_ok, probe_base, probe_base, thresholds, failed)
    if not recall.passed:  # more training comes first; the probe is only worth generating for a candidate
        return recall
    probe_answers = generate(pm, tok, [q for q, _ in PROBE], max_new_tokens=16)
    probe_adapter = [probe_ok(a, e) for a, (_, e) in zip(probe_answers, PROBE)]
    return decide(taught_ok, para_ok, probe_base, probe_adapter, thresholds, failed)


def consolidate(ns: str, topic: str, facts: list[Fact], *, base: BaseModel, registry: Registry,
                recipe: Recipe | None = None, thresholds: GateThresholds | None = None,
                progress: Callable[[dict], None] | None = None, extra: dict | None = None) -> RunOutcome:
    """Train, gate and (if it passes) publish one adapter version for `facts` of (ns, topic)."""
    t0 = time.perf_counter()
    recipe = recipe or Recipe()
    thresholds = thresholds or GateThresholds()
    ids = [f.id for f in facts]
    if not facts:
        return RunOutcome("empty", ns, topic, reasons=["no facts selected"])
    key = run_key(ns, topic, facts, recipe.to_dict(), model_id(base.name))
    current = registry.current(ns, topic)
    if current is not None and current.manifest().get("run_key") == key:
        return RunOutcome("skipped", ns, topic, current.version, ids, run_key=key,
                          reasons=["current version already holds exactly these facts"])
    ds = build_dataset(facts, recipe.taught_forms, short=recipe.short_answers)
    # The base model is shared by every run in this process: peft wraps it for this run and unload() at the
    # end gives it back untouched, even if the run fails.
    trainer = Trainer(base, ds.train + replay_examples(base, recipe.replay), recipe, progress)
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
                    "seconds": round(result.seconds, 2), "examples": len(ds.train), "history": result.history}
        if not gate.passed:
            log.warning("%s/%s rejected: %s", ns, topic, "; ".join(gate.reasons))
            return RunOutcome("rejected", ns, topic, None, ids, gate.to_dict(), training, key,
                              time.perf_counter() - t0, gate.reasons)
        manifest = {
            "base_model": model_id(base.name), "recipe": recipe.to_dict(), "run_key": key,
            "facts": [{"id": f.id, "text": f.text, "subject": f.subject, "relation": f.relation,
                       "object": f.object} for f in facts],
            "gate": gate.to_dict(), "training": training, "created_at": time.time(), **(extra or {}),
        }
        ref = registry.publish(ns, topic, lambda d: pm.save_pretrained(str(d)), manifest)
        return RunOutcome("published", ns, topic, ref.version, ids, gate.to_dict(), training, key,
                          time.perf_counter() - t0)
    finally:
        pm.unload()
