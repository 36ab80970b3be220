"""Which facts a consolidation trains on, and the idempotency key of a run. Pure logic."""

from __future__ import annotations

import hashlib
import json

from .schemas import Fact


def select_facts(active: list[Fact], heats: dict[str, float], hot_threshold: float,
                 include_all: bool = False) -> list[Fact]:
    """Hot unconsolidated facts plus every active fact already in the topic's adapter (replay, so a new
    version drops nothing it held). Superseded and deleted facts are never selected: that is how an adapter
    unlearns them. `include_all` (a manual run) takes every active fact."""
    out = [f for f in active if f.status == "active" and (
        include_all or f.consolidated_in is not None or heats.get(f.id, 0.0) >= hot_threshold)]
    # facts written in one call share created_at; their text, not their random ids, orders them, so the same
    # facts give the same training set and run (ids only break ties between equal texts)
    return sorted(out, key=lambda f: (f.created_at, f.text, f.id))


def run_key(ns: str, topic: str, facts: list[Fact], recipe: dict, base_model: str) -> str:
    """Same namespace, topic, fact set, recipe and base model => same adapter: the run can be skipped."""
    body = json.dumps({"ns": ns, "topic": topic, "base": base_model, "recipe": recipe,
                       "facts": sorted((f.id, f.text) for f in facts)}, sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()


def plan_shards(n_facts: int, capacity: int) -> int:
    """How many adapters a topic needs so that none holds more than `capacity` facts."""
    if n_facts <= 0:
        return 0
    return max(1, -(-n_facts // max(1, capacity)))
