"""Ops tests run the real app (FastAPI TestClient) on a real service: Edge store in a temp dir, the real Redis
under a key prefix and a Celery queue of their own, so counts are exact and nothing leaks into other tests."""

from __future__ import annotations

import uuid
from contextlib import contextmanager

import pytest
import redis
from fastapi.testclient import TestClient

from memory_service.api import create_app
from memory_service.queue import queue_keys
from memory_service.service import MemoryService
from tests.conftest import make_settings


@pytest.fixture
def ops_settings(tmp_path, redis_url, cleanup_prefix):
    """make(**over) -> Settings with a fresh prefix and queue; both are deleted from Redis afterwards."""
    queues: list[str] = []

    def make(**over):
        tag = uuid.uuid4().hex[:10]
        over.setdefault("consolidation", {"queue": f"ops-{tag}"})
        s = make_settings(tmp_path / tag, redis_url, "edge", **over)
        cleanup_prefix(s.redis.key_prefix)
        queues.append(s.consolidation.queue)
        return s

    yield make
    r = redis.Redis.from_url(redis_url)
    for q in queues:
        r.delete(*queue_keys(q), f"_kombu.binding.{q}", f"_kombu.binding.{q}-control")


@contextmanager
def running_app(settings, embedder, relay: bool = False, **client_kw):
    """The API as `engram serve` builds it, over a service on `settings` (relay off: no tasks sent behind
    the test's back)."""
    svc = MemoryService(settings, embedder=embedder)
    try:
        with TestClient(create_app(settings, svc, relay=relay), raise_server_exceptions=False, **client_kw) as c:
            yield c, svc
    finally:
        svc.close()
