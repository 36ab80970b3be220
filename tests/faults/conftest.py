"""Fault tests: real processes (API, Celery worker, redis-server) on loopback, killed for real."""

from __future__ import annotations

import uuid

import pytest
import redis

from memory_service.settings import Settings


def fault_settings(data_dir, redis_url: str, **over) -> Settings:
    """Settings of one test: its own data dir, key prefix and Celery queue on the given Redis."""
    tag = uuid.uuid4().hex[:8]
    base = dict(
        data_dir=data_dir,
        redis={"url": redis_url, "embedded_fallback": False, "key_prefix": f"engram-fault-{tag}"},
        # the recipe before issue 34 (short answers, 6 replayed questions, no KL) trains in about half the time;
        # these tests are about processes dying, and tests/integration runs the default recipe
        consolidation={"queue": f"consolidate-{tag}", "lock_ttl_s": 30, "short_answers": True, "lr": 7e-3,
                       "max_epochs": 30, "replay": 6, "kl": 0.0},
        torch_threads=2,
    )
    base.update(over)
    return Settings(**base)


def drop_keys(settings: Settings) -> None:
    """Remove the test's keys from a shared Redis: its prefix, its queues and Celery's result keys."""
    r = redis.Redis.from_url(settings.redis.url)
    q = settings.consolidation.queue
    for pattern in (f"{settings.redis.key_prefix}:*", f"{q}*", f"_kombu.binding.{q}*"):
        for key in r.scan_iter(match=pattern, count=1000):
            r.delete(key)


@pytest.fixture(scope="session")
def smollm2_folder(tmp_path_factory):
    """The packaged SmolLM2 converted once from its GGUF to a transformers folder (same weights, same logits).

    A worker process loads the GGUF in ~40 s (transformers parses its metadata in Python, several times) and
    this folder in under a second; a test that kills the training process five times would otherwise spend
    most of its time reloading the model."""
    from consolidation.model import load_base

    base = load_base("packaged")
    base.model.hf_quantizer = None  # dequantized to float32 on load: nothing quantized is left to refuse saving
    del base.model.config.quantization_config
    folder = tmp_path_factory.mktemp("smollm2")
    base.model.save_pretrained(folder)
    base.tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture
def cleanup_settings():
    made: list[Settings] = []
    yield made.append
    for s in made:
        try:
            drop_keys(s)
        except redis.RedisError:
            pass
