"""A real Celery worker (subprocess) on the real Redis, with the packaged SmolLM2, shared by a module."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from memory_service.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def worker_env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "ENGRAM_DATA_DIR": str(settings.data_dir),
        "ENGRAM_REDIS__URL": settings.redis.url,
        "ENGRAM_REDIS__EMBEDDED_FALLBACK": "false",
        "ENGRAM_REDIS__KEY_PREFIX": settings.redis.key_prefix,
        "ENGRAM_CONSOLIDATION__QUEUE": settings.consolidation.queue,
        "ENGRAM_CONSOLIDATION__LOCK_TTL_S": str(settings.consolidation.lock_ttl_s),
        "ENGRAM_TORCH_THREADS": "2",
        "HF_HUB_OFFLINE": "1",
        "PYTHONPATH": str(ROOT),
    })
    return env


class Worker:
    def __init__(self, settings: Settings, log_path: Path):
        self.settings = settings
        self.name = f"engram-test-{uuid.uuid4().hex[:6]}@localhost"
        q = settings.consolidation.queue
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker", "-Q", f"{q},{q}-control",
             "-c", "1", "-P", "prefork", "-l", "info", "-n", self.name, "--without-gossip", "--without-mingle",
             "--without-heartbeat", "-E"],
            cwd=ROOT, env=worker_env(settings), stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        self.log.close()


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
    from memory_service.llm import load_base

    return load_base("packaged")
