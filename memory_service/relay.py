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

import numpy as np
import redis

from .selection import plan_shards, select_facts
from .errors import NotFound
from .queue import CONSOLIDATE, make_celery
from .schemas import check_namespace, check_topic
from .service import MemoryService

log = logging.getLogger(__name__)
GROUP = "engram-service"
TRIGGERS = {"topic.due", "topic.rerun", "topic.stale", "consolidation.requested"}


def shard_facts(facts, vectors: np.ndarray, capacity: int, seed: int = 0) -> list[list]:
    """Split a topic too large for one adapter into k-means clusters of embeddings (sklearn), each within
    capacity (an oversized cluster is cut in order)."""
    k = plan_shards(len(facts), capacity)
    if k <= 1:
        return [list(facts)]
    from sklearn.cluster import KMeans

    labels = KMeans(n_clusters=k, n_init=4, random_state=seed).fit_predict(vectors)
    shards: list[list] = []
    for c in range(k):
        members = [f for f, lab in zip(facts, labels) if lab == c]
        shards += [members[i:i + capacity] for i in range(0, len(members), capacity)]
    return [s for s in shards if s]


def shard_name(topic: str, i: int, n: int) -> str:
    return topic if n == 1 else f"{topic[:58]}--{i + 1}"


class Consolidations:
    """Requests consolidations of a service's topics and applies their results."""

    def __init__(self, svc: MemoryService):
        self.svc = svc
        self.settings = svc.settings
        self.prefix = svc.settings.redis.key_prefix
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
            name = shard_name(topic, i, len(shards))
            res = self.celery.send_task(CONSOLIDATE, kwargs={
                "namespace": ns, "topic": name, "parent_topic": topic, "reason": reason,
                "facts": [f.model_dump(mode="json") for f in shard]}, queue=self.settings.consolidation.queue)
            ids.append(res.id)
            self.r.hset(f"{self.prefix}:tasks:{ns}", res.id, json.dumps(
                {"topic": name, "parent_topic": topic, "facts": len(shard), "reason": reason, "at": time.time()}))
        return ids

    def state(self, ns: str, task_id: str) -> dict:
        check_namespace(ns)
        known = self.r.hget(f"{self.prefix}:tasks:{ns}", task_id)
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
        pipe = self.r.pipeline()
        for fid in active:
            pipe.zrem(f"{self.prefix}:pending:{ns}:{parent}", fid)
        pipe.execute()
        self.svc.heat.clear_due(ns, parent)
        if gone:  # deleted or superseded while it trained: the new version is stale already
            self.svc.heat.mark_stale(ns, parent)
        else:
            self.svc.heat.clear_stale(ns, parent)

    # the event loop ------------------------------------------------------------------------------------------
    def handle(self, event: dict[str, str]) -> None:
        kind, ns, topic = event.get("type"), event.get("namespace", ""), event.get("topic", "")
        if kind in TRIGGERS:
            parent = event.get("parent_topic") or topic
            try:
                self.request(ns, parent, reason=kind, include_all=kind != "topic.due")
            except NotFound:  # every fact of the topic is gone: retire its adapter
                self.svc.heat.clear_due(ns, parent)
                if kind == "topic.stale":
                    self.retire(ns, parent)
        elif kind == "adapter.published":
            self.apply_published(ns, topic, event.get("parent_topic") or topic, event["version"],
                                 json.loads(event.get("fact_ids", "[]")))

    def retire(self, ns: str, topic: str) -> None:
        from .registry import Registry

        d = Registry(self.settings.adapters_dir).topic_dir(ns, topic)
        (d / "current").unlink(missing_ok=True)
        self.svc.heat.clear_stale(ns, topic)


class Relay:
    """Background thread of the service: reads the event stream as a consumer group member."""

    def __init__(self, consolidations: Consolidations, block_ms: int = 1000, claim_idle_ms: int = 60_000):
        self.c = consolidations
        self.r: redis.Redis = consolidations.r
        self.stream = f"{consolidations.prefix}:events"
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
                    event = {k.decode(): v.decode() for k, v in fields.items()}
                    marker = f"{self.c.prefix}:relayed:{eid.decode()}"
                    if not self.r.exists(marker):
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
