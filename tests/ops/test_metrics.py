"""/metrics: facts by status, due topics, queue depth, consolidation counters and training times written by
other processes (the Redis stats hash), adapter versions in the registry."""

import subprocess
import sys

import redis
from prometheus_client.parser import text_string_to_metric_families

from memory_service.queue import CONSOLIDATE, make_celery
from memory_service.registry import Registry
from memory_service.stats import record_finished, record_started
from tests.ops.conftest import running_app


def scrape(client) -> dict[tuple, float]:
    """{(sample name, (label, value), ...): value} from the exposition text."""
    r = client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    return {(s.name, *sorted(s.labels.items())): s.value
            for fam in text_string_to_metric_families(r.text) for s in fam.samples}


def fake_adapter(d):
    (d / "adapter_model.safetensors").write_bytes(b"weights")
    (d / "adapter_config.json").write_text("{}")


def test_metrics_report_the_shared_state(ops_settings, embedder, redis_url):
    s = ops_settings(heat={"hot_threshold": 1.5, "min_facts": 1})
    with running_app(s, embedder) as (client, svc):
        ids = [x["id"] for x in client.post("/v1/namespaces/alice/facts", json={"facts": [
            {"text": "Marla Quenby lives in Lisbon", "topic": "home"},
            {"text": "Marla Quenby owns a tuba", "topic": "music"}]}).json()["results"]]
        client.delete(f"/v1/namespaces/alice/facts/{ids[1]}")
        for _ in range(2):  # two uses make the fact hot, and its topic due (min_facts 1)
            client.post("/v1/namespaces/alice/recall", json={"query": "Where does Marla live?", "limit": 1})
        celery = make_celery(s, redis_url)
        for _ in range(3):  # waiting for a worker that is not there
            celery.send_task(CONSOLIDATE, kwargs={"namespace": "alice", "topic": "home", "facts": []},
                             queue=s.consolidation.queue)
        # an evaluation running against this deployment registers its own queue (evals.runner.Harness)
        evaluation = f"eval-{s.redis.key_prefix[-8:]}"
        redis.Redis.from_url(redis_url).hset(f"{s.redis.key_prefix}:evals", evaluation, "{}")
        celery.send_task(CONSOLIDATE, kwargs={"namespace": "e", "topic": "t", "facts": []}, queue=evaluation)
        reg = Registry(s.adapters_dir)
        reg.publish("alice", "home", fake_adapter, {})
        reg.publish("alice", "home", fake_adapter, {})
        reg.publish("bob", "pets", fake_adapter, {})

        m = scrape(client)
        assert m[("engram_facts", ("status", "active"))] == 1
        assert m[("engram_facts", ("status", "deleted"))] == 1
        assert m[("engram_facts", ("status", "superseded"))] == 0
        assert m[("engram_topics_due",)] == 1
        assert m[("engram_queue_depth", ("queue", s.consolidation.queue))] == 3
        assert m[("engram_queue_depth", ("queue", evaluation))] == 1
        redis.Redis.from_url(redis_url).delete(evaluation)
        assert m[("engram_adapter_versions",)] == 3 and m[("engram_adapter_topics",)] == 2
        assert m[("engram_consolidations_started_total",)] == 0
        assert all(m[("engram_backend_up", ("backend", b))] == 1 for b in ("qdrant", "redis", "registry"))
        assert ("process_resident_memory_bytes",) in m
        body = client.get("/metrics").text
        assert "alice" not in body and "home" not in body  # totals only: no namespace or topic names


def test_consolidation_counters_come_from_worker_processes(ops_settings, embedder, redis_url):
    s = ops_settings()
    prefix = s.redis.key_prefix
    # a worker in another process records its runs; the API process only reads them
    script = (f"import redis; from memory_service.stats import record_started, record_finished; "
              f"r = redis.Redis.from_url({redis_url!r}); p = {prefix!r}\n"
              "for _ in range(4): record_started(r, p)\n"
              "record_finished(r, p, 'published', 42.0); record_finished(r, p, 'rejected', 100.0)\n"
              "record_finished(r, p, 'error'); record_finished(r, p, 'skipped')\n")
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    with running_app(s, embedder) as (client, _):
        m = scrape(client)
        assert m[("engram_consolidations_started_total",)] == 4
        assert m[("engram_consolidations_succeeded_total",)] == 2  # published + skipped
        assert m[("engram_consolidations_failed_total",)] == 2  # rejected + error
        assert m[("engram_consolidations_finished_total", ("outcome", "error"))] == 1
        assert m[("engram_training_seconds_count",)] == 2 and m[("engram_training_seconds_sum",)] == 142.0
        assert m[("engram_training_seconds_bucket", ("le", "30.0"))] == 0
        assert m[("engram_training_seconds_bucket", ("le", "60.0"))] == 1
        assert m[("engram_training_seconds_bucket", ("le", "120.0"))] == 2
        assert m[("engram_training_seconds_bucket", ("le", "+Inf"))] == 2
        # a second API process (replica) reads the same numbers; this process adds one more run
        record_started(redis.Redis.from_url(redis_url), prefix)
        record_finished(redis.Redis.from_url(redis_url), prefix, "published", 3.0)
        m = scrape(client)
        assert m[("engram_consolidations_started_total",)] == 5
        assert m[("engram_training_seconds_bucket", ("le", "5.0"))] == 1


def test_metrics_survive_redis_down(ops_settings, embedder):
    s = ops_settings()
    with running_app(s, embedder) as (client, svc):
        client.post("/v1/namespaces/alice/facts", json={"facts": [{"text": "Marla Quenby lives in Lisbon"}]})
        svc.heat.r = redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
        m = scrape(client)
        assert m[("engram_backend_up", ("backend", "redis"))] == 0
        assert m[("engram_backend_up", ("backend", "qdrant"))] == 1
        assert m[("engram_facts", ("status", "active"))] == 1  # the store's numbers are still there
        assert ("engram_queue_depth", ("queue", s.consolidation.queue)) not in m  # no half-exported part
