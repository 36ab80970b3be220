"""Thin Celery tasks: ids and facts in, `consolidation.run` does the work, events out.

Workers never open the embedded store: the service sends the facts in the task message and applies the result
when it reads `adapter.published` from the event stream.
"""

from __future__ import annotations

import logging
import time

import redis
from celery import shared_task
from celery.exceptions import Ignore

from consolidation.gate import GateThresholds
from consolidation.lock import run_exclusive
from consolidation.run import consolidate as run_consolidation
from memory_service.errors import ServiceUnavailable
from memory_service.events import (ADAPTER_PUBLISHED, CONSOLIDATION_FAILED, TOPIC_RERUN, TOPIC_STALE, Event, Keys,
                                   emit)
from memory_service.heat import HeatTracker
from memory_service.llm import from_settings as llm_from_settings
from memory_service.queue import CONSOLIDATE, SWEEP
from memory_service.registry import open_registry
from memory_service.schemas import Fact, check_namespace, check_topic
from memory_service.settings import Settings
from memory_service.stats import record_finished, record_started

log = logging.getLogger(__name__)
_state: dict = {}  # per worker process: settings, redis, the base model (loaded on first use, kept)


def settings() -> Settings:
    from celery import current_app

    return getattr(current_app.conf, "engram_settings", None) or _state.setdefault("settings", Settings())


def redis_client() -> redis.Redis:
    if "redis" not in _state:
        from celery import current_app

        url = current_app.conf.broker_url.replace("redis+socket://", "unix://")
        _state["redis"] = redis.Redis.from_url(url)
    return _state["redis"]


def base_model():
    # Loaded lazily in the task, not at process init (Celery kills init handlers after 4 s).
    if "base" not in _state:
        from consolidation.model import load_base, set_threads

        s = settings()
        set_threads(s.consolidation.worker_threads or s.torch_threads)
        _state["base"] = load_base(s.base_model, s.device, s.model_cache_dir, s.dtype, s.pack_weights)
    return _state["base"]


@shared_task(bind=True, name=CONSOLIDATE, acks_late=True, reject_on_worker_lost=True,
             autoretry_for=(ServiceUnavailable, redis.ConnectionError), retry_backoff=True, max_retries=5)
def consolidate(self, namespace: str, topic: str, facts: list[dict], parent_topic: str | None = None,
                reason: str = "due") -> dict:
    s = settings()
    check_namespace(namespace)
    check_topic(topic)
    r = redis_client()
    prefix = s.redis.key_prefix
    keys = Keys(prefix)
    parent = parent_topic or topic

    def run() -> dict:
        started = time.time()

        def progress(p: dict) -> None:
            self.update_state(state="PROGRESS", meta={"namespace": namespace, "topic": topic, **p})

        record_started(r, prefix)
        progress({"phase": "load"})
        try:
            outcome = run_consolidation(
                namespace, topic, [Fact(**f) for f in facts], base=base_model(),
                registry=open_registry(s), recipe=s.consolidation.recipe,
                thresholds=GateThresholds(probe_enforced=s.consolidation.probe_enforced), progress=progress,
                extra={"parent_topic": parent, "task_id": self.request.id}, llm=llm_from_settings(s, r),
            )
        except Exception as exc:
            # counted and announced (`engram status` lists failures from the stream), then Celery retries or fails it
            try:
                record_finished(r, prefix, "error")
                emit(r, keys, Event(type=CONSOLIDATION_FAILED, namespace=namespace, topic=topic,
                                    parent_topic=parent, status="error", reasons=[f"{type(exc).__name__}: {exc}"[:500]],
                                    task_id=self.request.id or ""))
            except redis.RedisError:
                log.warning("could not record the failure of %s/%s in Redis", namespace, topic)
            raise
        kind = ADAPTER_PUBLISHED if outcome.status in ("published", "skipped") else CONSOLIDATION_FAILED
        emit(r, keys, Event(type=kind, namespace=namespace, topic=topic, parent_topic=parent,
                            version=str(outcome.version or ""), status=outcome.status, fact_ids=outcome.fact_ids,
                            reasons=outcome.reasons, task_id=self.request.id or ""))
        record_finished(r, prefix, outcome.status, outcome.seconds if outcome.training else None)
        return {**outcome.to_dict(), "parent_topic": parent, "started_at": started}

    # coalesced requests become one follow-up run, with fresh facts selected by the service
    ran, result = run_exclusive(
        r, prefix, namespace, topic, self.request.id or "manual", s.consolidation.lock_ttl_s, run,
        on_rerun=lambda: emit(r, keys, Event(type=TOPIC_RERUN, namespace=namespace, topic=parent)))
    if not ran:
        self.update_state(state="COALESCED", meta={"namespace": namespace, "topic": topic})
        raise Ignore()
    return result


@shared_task(name=SWEEP)
def sweep() -> dict:
    """Beat: re-check every namespace's topics for due-ness (time passes, heat decays) and stale adapters."""
    s = settings()
    r = redis_client()
    tracker = HeatTracker(r, s.heat, s.redis.key_prefix)
    keys = tracker.keys
    topics: dict[str, set[str]] = {}
    for key in r.scan_iter(match=keys.pattern("pending"), count=1000):
        ns, topic = keys.parse_pending(key)
        topics.setdefault(ns, set()).add(topic)
    due = {ns: tracker.sweep(ns, ts) for ns, ts in topics.items()}
    stale = 0
    for key in r.scan_iter(match=keys.pattern("stale"), count=1000):
        ns = keys.parse_ns(key)
        for topic in tracker.stale(ns):
            emit(r, keys, Event(type=TOPIC_STALE, namespace=ns, topic=topic))
            stale += 1
    return {"due": {k: v for k, v in due.items() if v}, "stale": stale}
