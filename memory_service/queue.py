"""Celery configuration from Settings, shared by the workers' app and the service's client (which only sends
tasks by name, so memory_service never imports workers)."""

from __future__ import annotations

from celery import Celery

from .settings import Settings

CONSOLIDATE = "engram.consolidate"
SWEEP = "engram.sweep"


def broker_url(redis_url: str) -> str:
    """Celery spells a unix-socket Redis (the embedded server) `redis+socket://`."""
    return "redis+socket://" + redis_url[len("unix://"):] if redis_url.startswith("unix://") else redis_url


def celery_config(settings: Settings) -> dict:
    c = settings.consolidation
    # Late acks + reject on worker loss + prefetch 1: a killed worker's task is redelivered, not lost. The
    # visibility timeout is longer than any run, so a live run is never redelivered to a second worker.
    transport = {"visibility_timeout": c.visibility_timeout_s}
    return dict(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_transport_options=transport,
        result_backend_transport_options=transport,
        broker_connection_retry_on_startup=True,
        task_default_queue=f"{c.queue}-control",
        task_routes={CONSOLIDATE: {"queue": c.queue}},
        task_track_started=True,
        task_send_sent_event=True,
        worker_send_task_events=True,
        result_extended=True,
        result_expires=7 * 24 * 3600,
        worker_max_tasks_per_child=c.max_tasks_per_child,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        beat_schedule={"engram-sweep": {"task": SWEEP, "schedule": c.sweep_interval_s}},
    )


def make_celery(settings: Settings, redis_url: str | None = None, include: list[str] | None = None) -> Celery:
    url = broker_url(redis_url or settings.redis.url)
    app = Celery("engram", broker=url, backend=url, include=include or [])
    app.conf.update(celery_config(settings))
    return app


def queue_keys(queue: str) -> list[str]:
    """Redis lists that hold a queue's waiting messages: kombu keeps priorities 3, 6, 9 in siblings of the list
    named after the queue (kombu.transport.redis: sep '\\x06\\x16', PRIORITY_STEPS)."""
    return [queue] + [f"{queue}\x06\x16{p}" for p in (3, 6, 9)]


def queue_depth(r, queue: str) -> int:
    """Messages waiting in `queue` (not those a worker has taken: see `engram status` for those)."""
    pipe = r.pipeline(transaction=False)
    for key in queue_keys(queue):
        pipe.llen(key)
    return int(sum(pipe.execute()))
