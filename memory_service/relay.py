"""The service side of consolidation: turn events into Celery tasks, and published adapters into fact updates.

Runs in the service process (it owns the store): a consumer group on the `<prefix>:events` stream, so an event
is not lost if the service restarts (unacked entries are re-read first) and is not turned into two tasks (a
marker per event id; a duplicate would be harmless anyway: runs are keyed by their fact set and the per-topic
lock coalesces).
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from typing import Callable

import numpy as np
import redis

from .errors import NotFound
from .events import ADAPTER_PUBLISHED, TOPIC_DUE, TOPIC_STALE, TRIGGERS, Event, Keys
from .queue import CONSOLIDATE, make_celery
from .registry import open_registry
from .schemas import check_namespace, check_topic, shard_topic
from .selection import plan_shards, select_facts
from .service import MemoryService

log = logging.getLogger(__name__)
GROUP = "engram-service"
TERMINAL = frozenset({"SUCCESS", "FAILURE", "REVOKED", "COALESCED"})  # task states that do not change again


def ended(states: list[dict]) -> bool:
    return all(s["state"] in TERMINAL for s in states)


def wait_for_tasks(poll: Callable[[str], dict], task_ids: Callable[[], list[str]], timeout_s: float, *,
                   done: Callable[[list[dict]], bool] = ended, on_poll: Callable[[list[dict]], None] | None = None,
                   interval_s: float = 0.5) -> list[dict]:
    """Poll consolidation tasks until `done(states)` (by default: every one has ended) and return their states.

    `poll(task_id)` is Consolidations.state or the API client's; `task_ids()` is read each round, so tasks that
    appear while waiting (the relay enqueues from events) are waited for too. `on_poll(states)` runs after each
    round: progress bars, and liveness checks that raise. TimeoutError names the tasks still running."""
    deadline = time.monotonic() + timeout_s
    while True:
        states = [poll(t) for t in task_ids()]
        if on_poll:
            on_poll(states)
        if done(states):
            return states
        if time.monotonic() > deadline:
            busy = [f"{s.get('topic', s['task_id'])} {s['state']}" for s in states if s["state"] not in TERMINAL]
            raise TimeoutError(f"consolidations still running after {timeout_s:.0f} s: {', '.join(busy) or '-'}")
        time.sleep(interval_s)


def shard_facts(facts, vectors: np.ndarray, capacity: int, seed: int = 0) -> list[list]:
    """Split a topic too large for one adapter into k-means clusters of embeddings (sklearn), each within
    capacity (an oversized cluster is cut in order). A statement and the facts read from it are one unit, never
    split: synthesis reads a fact's questions off its statement ("Which language do I learn?" needs "learning
    Portuguese" and the fact read from it in one adapter), and hybrid shows the statement for its facts."""
    k = plan_shards(len(facts), capacity)
    if k <= 1:
        return [list(facts)]
    from sklearn.cluster import KMeans

    ids = {f.id for f in facts}
    units: dict[str, list[int]] = {}
    for i, f in enumerate(facts):
        units.setdefault(f.derived_from if f.derived_from in ids else f.id, []).append(i)
    groups = list(units.values())
    centres = np.stack([vectors[g].mean(0) for g in groups])
    labels = KMeans(n_clusters=min(k, len(groups)), n_init=4, random_state=seed).fit_predict(centres)
    shards: list[list] = []
    for c in range(k):
        shard: list = []
        for g in (g for g, lab in zip(groups, labels) if lab == c):
            if shard and len(shard) + len(g) > capacity:
                shards.append(shard)
                shard = []
            shard += [facts[i] for i in g]
        shards.append(shard)
    return [s for s in shards if s]


class Consolidations:
    """Requests consolidations of a service's topics and applies their results."""

    def __init__(self, svc: MemoryService):
        self.svc = svc
        self.settings = svc.settings
        self.keys = Keys(svc.settings.redis.key_prefix)
        self.r = svc.heat.r
        self.celery = make_celery(svc.settings, svc.redis_url)

    # requests --------------------------------------------------------------------------------------------
    def request(self, ns: str, topic: str, reason: str = "manual", include_all: bool | None = None) -> list[str]:
        """Select the topic's facts and enqueue one task per shard; returns the task ids."""
        check_namespace(ns)
        check_topic(topic)
        active = self.svc.all_active(ns, topic)
        if not active:
            raise NotFound(f"topic {topic!r} has no active facts in namespace {ns!r}", field="topic")
        heats = dict(zip([f.id for f in active], self.svc.heat.fact_heat(ns, [f.id for f in active])))
        # manual runs take every active fact; events take hot ones plus what the adapter already holds
        chosen = select_facts(active, heats, self.settings.heat.hot_threshold,
                              include_all=reason == "manual" if include_all is None else include_all)
        if not chosen:
            return []
        vectors = {r.id: r.vector for r in self.svc.store.retrieve([f.id for f in chosen], with_vector=True)}
        shards = shard_facts(chosen, np.stack([vectors[f.id] for f in chosen]),
                             self.settings.consolidation.capacity_facts)
        ids = []
        for i, shard in enumerate(shards):
            name = shard_topic(topic, i, len(shards))
            res = self.celery.send_task(CONSOLIDATE, kwargs={
                "namespace": ns, "topic": name, "parent_topic": topic, "reason": reason,
                "facts": [f.model_dump(mode="json") for f in shard]}, queue=self.settings.consolidation.queue)
            ids.append(res.id)
            self.r.hset(self.keys.tasks(ns), res.id, json.dumps(
                {"topic": name, "parent_topic": topic, "facts": len(shard), "reason": reason, "at": time.time()}))
        return ids

    def task_ids(self, ns: str) -> list[str]:
        """Every consolidation requested in the namespace (the relay's and manual ones)."""
        return [t.decode() for t in self.r.hkeys(self.keys.tasks(ns))]

    def state(self, ns: str, task_id: str) -> dict:
        check_namespace(ns)
        known = self.r.hget(self.keys.tasks(ns), task_id)
        if known is None:
            raise NotFound(f"consolidation {task_id!r} not found in namespace {ns!r}", field="task_id")
        res = self.celery.AsyncResult(task_id)
        info = res.info if isinstance(res.info, dict) else ({"error": str(res.info)} if res.info else {})
        return {"task_id": task_id, "state": res.state, **json.loads(known), "info": info}

    # results ---------------------------------------------------------------------------------------------
    def apply_published(self, ns: str, topic: str, parent: str, version: str, fact_ids: list[str]) -> None:
        """Mark facts as consolidated in `topic/vN`; they leave the short-term pending set."""
        label = f"{topic}/v{version}"
        found = {r.id: r.payload for r in self.svc.store.retrieve(fact_ids)}
        active = [fid for fid, p in found.items() if p.get("status") == "active"]
        gone = [fid for fid in fact_ids if fid not in active]
        self.svc.store.set_payload(active, {"consolidated_in": label})
        if active:
            self.r.zrem(self.keys.pending(ns, parent), *active)
        self.svc.heat.clear_due(ns, parent)
        if gone:  # deleted or superseded while it trained: the new version is stale already
            self.svc.heat.mark_stale(ns, parent)
        else:
            self.svc.heat.clear_stale(ns, parent)

    # the event loop ------------------------------------------------------------------------------------------
    def handle(self, event: Event) -> None:
        ns, topic = event.namespace, event.topic
        parent = event.parent_topic or topic
        if event.type in TRIGGERS:
            try:
                self.request(ns, parent, reason=event.type, include_all=event.type != TOPIC_DUE)
            except NotFound:  # every fact of the topic is gone: retire its adapter
                self.svc.heat.clear_due(ns, parent)
                if event.type == TOPIC_STALE:
                    self.retire(ns, parent)
        elif event.type == ADAPTER_PUBLISHED:
            self.apply_published(ns, topic, parent, event.version, event.fact_ids)

    def retire(self, ns: str, topic: str) -> None:
        open_registry(self.settings).retire(ns, topic)
        self.svc.heat.clear_stale(ns, topic)


class Relay:
    """Background thread of the service: reads the event stream as a consumer group member."""

    def __init__(self, consolidations: Consolidations, block_ms: int = 1000, claim_idle_ms: int = 60_000):
        self.c = consolidations
        self.r: redis.Redis = consolidations.r
        self.stream = consolidations.keys.events
        self.consumer = socket.gethostname()  # stable across restarts: its unacked events are re-read
        self.block_ms = block_ms
        self.claim_idle_ms = claim_idle_ms
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._group = False

    def _ensure_group(self) -> None:
        """Created on first use, not at start-up: the service starts (and answers 503) while Redis is down."""
        if not self._group:
            try:
                self.r.xgroup_create(self.stream, GROUP, id="0", mkstream=True)
            except redis.ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise
            self._group = True

    def step(self, block_ms: int | None = None) -> int:
        """Handle this consumer's unacked events first (a restart), then new ones. Returns how many."""
        self._ensure_group()
        n = 0
        # entries another consumer took and never acked (it died) are taken over after claim_idle_ms
        self.r.xautoclaim(self.stream, GROUP, self.consumer, min_idle_time=self.claim_idle_ms, start_id="0-0",
                          count=50)
        for start in ("0", ">"):
            resp = self.r.xreadgroup(GROUP, self.consumer, {self.stream: start}, count=50,
                                     block=None if start == "0" else (block_ms if block_ms is not None else self.block_ms))
            for _, entries in resp or []:
                for eid, fields in entries:
                    if not fields:
                        continue
                    marker = self.c.keys.relayed(eid.decode())
                    try:
                        event = Event.from_fields(fields)
                    except ValueError as exc:  # not ours to act on (another writer, a newer schema): skip it
                        log.warning("event %s skipped: %s", eid, exc)
                        event = None
                    if event is not None and not self.r.exists(marker):
                        try:
                            self.c.handle(event)
                        except Exception:
                            log.exception("event %s failed; it stays pending and is retried", eid)
                            continue
                        self.r.set(marker, 1, ex=86400)
                    self.r.xack(self.stream, GROUP, eid)
                    n += 1
        return n

    def start(self) -> "Relay":
        def loop():
            while not self._stop.is_set():
                try:
                    self.step()
                except redis.RedisError as exc:
                    log.warning("relay: %s; retrying", exc)
                    time.sleep(1.0)

        self._thread = threading.Thread(target=loop, name="engram-relay", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
