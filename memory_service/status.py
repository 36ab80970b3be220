"""What `engram status` shows, gathered as plain data: queue depth, workers with their active and reserved
consolidations (progress from the result backend), run counters, recent failures, hottest topics, adapters.

Reads Redis, Celery and the adapter registry only, never the fact store: the embedded store belongs to the
service process (DESIGN §3), and status must work while `engram serve` runs.
"""

from __future__ import annotations

import time

import redis
from celery import Celery

from . import stats
from .events import CONSOLIDATION_FAILED, Event, Keys
from .heat import HeatTracker
from .queue import make_celery, queue_depth
from .redis_conn import connect_redis
from .registry import open_registry
from .schemas import NAMESPACE_RE
from .settings import Settings

PROGRESS_KEYS = ("phase", "epoch", "step", "total_steps", "loss")


def collect(settings: Settings, *, r: redis.Redis | None = None, celery: Celery | None = None,
            timeout: float = 1.0, top: int = 10, failures: int = 10) -> dict:
    """`timeout`: seconds to wait for workers to answer (each inspect round; with none running, one round)."""
    r, url = connect_redis(settings) if r is None else (r, settings.redis.url)
    celery = celery or make_celery(settings, url)
    prefix, queue = settings.redis.key_prefix, settings.consolidation.queue
    workers, active, reserved = tasks(celery, {queue} | evaluation_queues(r, prefix), timeout)
    st = stats.read(r, prefix)
    training = st.pop("training")
    return {
        "queue": {"name": queue, "depth": queue_depth(r, queue)},
        "workers": workers,
        "active": [with_progress(celery, t) for t in active],
        "reserved": reserved,
        "consolidations": {**st, "training_runs": training["count"], "training_seconds": round(training["sum"], 3)},
        "failures": recent_failures(r, prefix, failures),
        "topics": hottest_topics(r, settings, top),
        "adapters": open_registry(settings).summary(),
        "registry": settings.registry.url or str(settings.adapters_dir),  # where every version lives
        "collected_at": time.time(),
    }


def evaluation_queues(r: redis.Redis, prefix: str) -> set[str]:
    """The queues of the evaluations running against this deployment (`engram eval` registers its own worker's
    queue under `<prefix>:evals` while it runs, evals.runner.Harness)."""
    return {q.decode() if isinstance(q, bytes) else q for q in r.hkeys(f"{prefix}:evals")}


def tasks(celery: Celery, queues: set[str], timeout: float) -> tuple[list[dict], list[dict], list[dict]]:
    """Workers consuming one of `queues` (others on the same broker are not ours) and their active/reserved
    tasks."""
    answered = celery.control.inspect(timeout=timeout).active_queues() or {}
    consumed = {w: sorted(q.get("name", "") for q in qs or [] if q.get("name") in queues)
                for w, qs in answered.items()}
    mine = sorted(w for w, names in consumed.items() if names)
    if not mine:
        return [], [], []
    # with a destination, each round returns as soon as every named worker has answered
    inspect = celery.control.inspect(destination=mine, timeout=timeout)
    active, reserved = inspect.active() or {}, inspect.reserved() or {}
    workers = [{"name": w, "queues": consumed[w], "active": len(active.get(w) or []),
                "reserved": len(reserved.get(w) or [])} for w in mine]
    return (workers, [task_row(w, t) for w in mine for t in active.get(w) or []],
            [task_row(w, t) for w in mine for t in reserved.get(w) or []])


def task_row(worker: str, t: dict) -> dict:
    kwargs = t.get("kwargs") if isinstance(t.get("kwargs"), dict) else {}  # the facts list is left out: large
    return {"id": t.get("id"), "name": t.get("name"), "worker": worker, "namespace": kwargs.get("namespace"),
            "topic": kwargs.get("topic"), "reason": kwargs.get("reason"), "started_at": t.get("time_start")}


def with_progress(celery: Celery, row: dict) -> dict:
    """The task's state and PROGRESS meta from the result backend (the worker updates it every few steps)."""
    res = celery.AsyncResult(row["id"])
    info = res.info if isinstance(res.info, dict) else {}
    return {**row, "state": res.state, "progress": {k: info[k] for k in PROGRESS_KEYS if k in info}}


def recent_failures(r: redis.Redis, prefix: str, n: int, scan: int = 1000) -> list[dict]:
    """The newest `consolidation.failed` events among the last `scan` of the event stream."""
    out = []
    for eid, fields in r.xrevrange(Keys(prefix).events, count=scan):
        try:
            event = Event.from_fields(fields)
        except ValueError:
            continue
        if event.type != CONSOLIDATION_FAILED:
            continue
        out.append({"at": int(eid.decode().split("-")[0]) / 1000, "namespace": event.namespace,
                    "topic": event.topic, "status": event.status, "reasons": event.reasons,
                    "task_id": event.task_id})
        if len(out) >= n:
            break
    return out


def hottest_topics(r: redis.Redis, settings: Settings, n: int) -> list[dict]:
    """Topics of every namespace by decayed heat, hottest first, with hot/unconsolidated counts and flags."""
    tracker = HeatTracker(r, settings.heat, settings.redis.key_prefix)
    keys = tracker.keys
    rows = []
    for key in r.scan_iter(match=keys.heat_topics("*"), count=1000):
        ns = keys.parse_ns(key)
        if not NAMESPACE_RE.fullmatch(ns):
            continue
        topics = [t.decode() for t in r.hkeys(key)]
        for t in tracker.topics(ns, topics):
            rows.append({"namespace": ns, "topic": t.topic, "heat": round(t.heat, 3), "hot": t.hot,
                         "unconsolidated": t.unconsolidated, "due": t.due, "stale": t.stale})
    return sorted(rows, key=lambda x: -x["heat"])[:n]
