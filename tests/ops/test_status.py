"""`engram status`: the data (`status.collect`) with no worker and with a real Celery worker mid-run, and the
CLI rendering it as a table or JSON."""

import json
import threading
import time
import uuid

import pytest
import redis
from celery import current_app
from celery.contrib.testing.worker import start_worker
from typer.testing import CliRunner

from engram import cli
from memory_service.events import Event, Keys, emit
from memory_service.heat import HeatTracker
from memory_service.queue import CONSOLIDATE, make_celery
from memory_service.registry import Registry
from memory_service.stats import record_finished, record_started
from memory_service.status import collect


STAND_IN = "engram-test.consolidate"


def fake_adapter(d):
    (d / "adapter_model.safetensors").write_bytes(b"weights")
    (d / "adapter_config.json").write_text("{}")


@pytest.fixture
def busy(ops_settings, redis_url):
    """Settings whose Redis and registry hold some history: heat on two topics, runs, a failure, adapters."""
    s = ops_settings()
    r = redis.Redis.from_url(redis_url)
    heat = HeatTracker(r, s.heat, s.redis.key_prefix)
    heat.add_pending("alice", [("f1", "home", time.time()), ("f2", "music", time.time())])
    heat.hit("alice", [("f1", "home")])
    for _ in range(3):
        heat.hit("alice", [("f2", "music")])
    heat.hit("bob", [("f9", "pets")])
    heat.hit("bob", [("f9", "pets")])
    record_started(r, s.redis.key_prefix)
    record_finished(r, s.redis.key_prefix, "rejected", 12.5)
    keys = Keys(s.redis.key_prefix)
    emit(r, keys, Event(type="consolidation.failed", namespace="alice", topic="music", status="rejected",
                        reasons=["paraphrase recall 0.60 < 0.90"], task_id="t-1"))
    emit(r, keys, Event(type="adapter.published", namespace="alice", topic="home"))
    Registry(s.adapters_dir).publish("alice", "home", fake_adapter, {})
    Registry(s.adapters_dir).publish("alice", "home", fake_adapter, {})
    return s


def test_collect_without_workers(busy):
    t0 = time.time()
    data = collect(busy, timeout=0.3)
    assert time.time() - t0 < 3  # one short inspect round, not a hang
    assert data["workers"] == [] and data["active"] == [] and data["reserved"] == []
    assert data["queue"] == {"name": busy.consolidation.queue, "depth": 0}
    assert data["consolidations"]["started"] == 1 and data["consolidations"]["failed"] == 1
    assert data["consolidations"]["training_seconds"] == 12.5
    (failure,) = data["failures"]
    assert failure["topic"] == "music" and failure["reasons"] == ["paraphrase recall 0.60 < 0.90"]
    assert [(t["namespace"], t["topic"]) for t in data["topics"]] == [("alice", "music"), ("bob", "pets"),
                                                                      ("alice", "home")]
    assert data["topics"][0]["heat"] == pytest.approx(3.0, abs=0.01)
    assert data["adapters"] == {"alice": {"topics": 1, "versions": 2}}
    assert data["registry"] == str(busy.adapters_dir)
    json.dumps(data)  # --json must be able to print it


@pytest.fixture
def busy_env(busy, monkeypatch):
    for k, v in {"ENGRAM_DATA_DIR": str(busy.data_dir), "ENGRAM_REDIS__URL": busy.redis.url,
                 "ENGRAM_REDIS__EMBEDDED_FALLBACK": "false", "ENGRAM_REDIS__KEY_PREFIX": busy.redis.key_prefix,
                 "ENGRAM_CONSOLIDATION__QUEUE": busy.consolidation.queue}.items():
        monkeypatch.setenv(k, v)
    return busy


def test_cli_status_renders_zero_workers(busy_env):
    runner = CliRunner()
    r = runner.invoke(cli.app, ["status", "--timeout", "0.3"])
    assert r.exit_code == 0, r.output
    assert "0 workers" in r.output and "music" in r.output and "paraphrase recall" in r.output
    r = runner.invoke(cli.app, ["status", "--json", "--timeout", "0.3"])
    assert r.exit_code == 0 and json.loads(r.stdout)["adapters"]["alice"]["versions"] == 2


@pytest.mark.parametrize("args", [["--watch"], ["--watch", "--json"]])
def test_cli_status_watch_refreshes_until_ctrl_c(busy_env, monkeypatch, args):
    refreshes = []

    def sleep(seconds):  # the second wait is "interrupted" by the user
        refreshes.append(seconds)
        if len(refreshes) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(time, "sleep", sleep)
    r = CliRunner().invoke(cli.app, ["status", "--timeout", "0.2", "--interval", "0.5", *args])
    assert r.exit_code == 0, r.output
    assert refreshes == [0.5, 0.5]
    if "--json" in args:  # one JSON document per line, one line per refresh
        lines = r.stdout.strip().splitlines()
        assert len(lines) == 2 and all(json.loads(x)["queue"]["depth"] == 0 for x in lines)
    else:
        assert "0 workers" in r.output


@pytest.mark.parametrize("evaluation", [False, True], ids=["service", "evaluation"])
def test_collect_shows_a_running_consolidation_with_progress(ops_settings, redis_url, evaluation):
    """A worker on the service's queue, or on an evaluation's own (`engram eval` runs one on eval-<tag>): status
    lists it with its running task and progress."""
    s = ops_settings()
    queue = f"eval-{uuid.uuid4().hex[:8]}" if evaluation else s.consolidation.queue
    r = redis.Redis.from_url(redis_url)
    if evaluation:  # as evals.runner.Harness registers its worker's queue while it runs
        r.hset(f"{s.redis.key_prefix}:evals", queue, "{}")
    app = make_celery(s, redis_url)
    release = threading.Event()

    # A stand-in with the real task's arguments and progress reports (workers/tasks.py -> consolidation.run),
    # under its own name: every app also gets the real task (a shared task) once workers.tasks is imported.
    stand_in = f"{STAND_IN}-{uuid.uuid4().hex[:6]}"  # each run its own callable (task names are process-wide)

    @app.task(name=stand_in, bind=True)
    def consolidate(self, namespace, topic, facts, parent_topic=None, reason="due"):
        self.update_state(state="PROGRESS", meta={"namespace": namespace, "topic": topic, "phase": "train",
                                                  "epoch": 2, "step": 3, "total_steps": 10, "loss": 0.5})
        release.wait(30)
        return {"status": "published"}

    name = f"ops-{uuid.uuid4().hex[:6]}@test"
    ids = []
    with start_worker(app, pool="threads", concurrency=1, perform_ping_check=False, hostname=name,
                      queues=[queue], shutdown_timeout=10):
        try:
            for topic in ("home", "music"):  # one runs, the other waits in the queue
                ids.append(app.send_task(stand_in, kwargs={"namespace": "alice", "topic": topic, "facts": [],
                                                           "reason": "manual"},
                                         queue=queue).id)
            deadline = time.time() + 20
            while True:
                data = collect(s, timeout=1.0)
                if data["active"] and data["active"][0].get("progress"):
                    break
                assert time.time() < deadline, data
                time.sleep(0.2)
            assert data["workers"] == [{"name": name, "queues": [queue], "active": 1, "reserved": 0}]
            (task,) = data["active"]
            assert (task["namespace"], task["topic"], task["state"]) == ("alice", "home", "PROGRESS")
            assert task["progress"] == {"phase": "train", "epoch": 2, "step": 3, "total_steps": 10, "loss": 0.5}
            assert data["queue"]["depth"] == (0 if evaluation else 1)  # the service's queue
        finally:
            release.set()
    r.delete(*[f"celery-task-meta-{i}" for i in ids], f"{s.redis.key_prefix}:evals")


def test_a_crashing_run_is_counted_and_listed(ops_settings, redis_url, monkeypatch):
    """The real task body (workers/tasks.py), in-process: the base model fails to load, so the run raises;
    it is counted as an error and shows up among the recent failures."""
    import workers.tasks as tasks

    s = ops_settings()
    previous = current_app._get_current_object()
    app = make_celery(s, redis_url, include=["workers.tasks"])  # a fresh app holds the real shared task
    task = app.tasks[CONSOLIDATE]
    monkeypatch.setattr(tasks, "_state", {"settings": s, "redis": redis.Redis.from_url(redis_url)})

    def broken():
        raise RuntimeError("model file truncated")

    monkeypatch.setattr(tasks, "base_model", broken)
    monkeypatch.setattr(task, "update_state", lambda **kw: None)  # progress goes nowhere in this test
    task.push_request(id="task-crash")
    try:
        with pytest.raises(RuntimeError, match="truncated"):
            task.run("alice", "home", [])
    finally:
        task.pop_request()
        previous.set_current()  # later tests see the app they would have seen
    data = collect(s, timeout=0.2)
    assert data["consolidations"]["started"] == 1 and data["consolidations"]["finished"]["error"] == 1
    (failure,) = data["failures"]
    assert failure["status"] == "error" and failure["reasons"] == ["RuntimeError: model file truncated"]
    assert failure["task_id"] == "task-crash"
