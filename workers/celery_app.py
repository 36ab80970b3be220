"""The Celery app: `celery -A workers.celery_app worker -Q consolidate` (or `engram worker`), and `engram beat`.

Configured from Settings (memory_service/queue.py holds the options, shared with the service's client).
When ENGRAM_REDIS__URL is unreachable, `engram worker` passes the embedded server's socket in ENGRAM_BROKER_URL.
"""

from __future__ import annotations

import os

from memory_service.queue import make_celery
from memory_service.settings import Settings

settings = Settings()
app = make_celery(settings, os.environ.get("ENGRAM_BROKER_URL"), include=["workers.tasks"])
