"""A real Celery worker (subprocess) on the real Redis, with the packaged SmolLM2, shared by a module."""

from __future__ import annotations

import time
import uuid

import pytest

from bench.procs import Worker  # the same worker subprocess that the fault tests and bench.load start
from memory_service.settings import Settings


@pytest.fixture(scope="module")
def integration_settings(tmp_path_factory, redis_url) -> Settings:
    tag = uuid.uuid4().hex[:8]
    return Settings(
        data_dir=tmp_path_factory.mktemp("engram"),
        redis={"url": redis_url, "embedded_fallback": False, "key_prefix": f"engram-it-{tag}"},
        heat={"hot_threshold": 0.9, "min_facts": 4},
        consolidation={"queue": f"consolidate-{tag}", "lock_ttl_s": 30},
        torch_threads=2,
    )


@pytest.fixture(scope="module")
def worker(integration_settings, tmp_path_factory):
    w = Worker(integration_settings, tmp_path_factory.mktemp("logs") / "worker.log")
    time.sleep(1.0)
    yield w
    w.stop()
    import redis

    r = redis.Redis.from_url(integration_settings.redis.url)
    for key in r.scan_iter(match=f"{integration_settings.redis.key_prefix}:*"):
        r.delete(key)


@pytest.fixture(scope="module")
def base_model():
    from consolidation.model import load_base

    return load_base("packaged")
