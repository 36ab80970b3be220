"""A Harness on the real service (Redis, Qdrant Edge) without a model or a worker: enough to play the turns
that write, delete and look facts up."""

import pytest

from evals.runner import Harness
from memory_service.relay import Consolidations
from memory_service.service import MemoryService
from tests.conftest import make_settings


@pytest.fixture
def harness(tmp_path, redis_url, embedder, cleanup_prefix):
    s = make_settings(tmp_path, redis_url)
    cleanup_prefix(s.redis.key_prefix)
    svc = MemoryService(s, embedder=embedder)
    h = Harness(s, svc, graph=None, consolidations=Consolidations(svc), relay=None, worker=None)
    h._clock = {"offset": 0.0}
    yield h
    svc.close()


