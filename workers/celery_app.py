"""The Celery app: `celery -A workers.celery_app worker -Q consolidate` (or `engram worker`), and `engram beat`.

Configured from Settings (memory_service/queue.py holds the options, shared with the service's client).
When ENGRAM_REDIS__URL is unreachable, `engram worker` passes the embedded server's socket in ENGRAM_BROKER_URL.
"""

from __future__ import annotations

import os

from celery.signals import worker_process_init

from memory_service.queue import make_celery
from memory_service.settings import Settings

settings = Settings()
app = make_celery(settings, os.environ.get("ENGRAM_BROKER_URL"), include=["workers.tasks"])

@worker_process_init.connect
def lower_priority(**_) -> None:
    """Training is batch work that takes every core it is given; on a host it shares with the API, recall
    latency should win. Niceness only acts under contention, so a dedicated worker host loses nothing.
    Set in each pool process before it starts any thread (Linux niceness is per thread; new threads inherit
    it); never lowered below what the process was started with."""
    current = os.getpriority(os.PRIO_PROCESS, 0)
    os.setpriority(os.PRIO_PROCESS, 0, max(current, settings.consolidation.worker_nice))
