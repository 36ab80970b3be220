"""The worker's training process is SIGKILLed mid-training five times in a row.

Each time the task is redelivered (acks_late + reject_on_worker_lost: the worker's main process puts the
message back the moment its child dies, so the visibility timeout never comes into it) and starts over in a
new training process; meanwhile the registry only ever lists complete versions with valid manifests and keeps
serving v1. In the end exactly one new version is published.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time

import pytest
import redis
from safetensors.torch import save_file

from bench.procs import Worker
from evals.fictional import fictional_facts
from memory_service.registry import Registry
from memory_service.relay import Consolidations, wait_for_tasks
from memory_service.schemas import FactIn
from memory_service.service import MemoryService
from tests.faults.conftest import fault_settings

pytestmark = pytest.mark.integration

KILLS = 5
NS, TOPIC = "alice", "friends"


class RegistryWatch(threading.Thread):
    """Polls the registry while the test runs: every listed version must verify against its manifest."""

    def __init__(self, reg: Registry):
        super().__init__(daemon=True)
        self.reg, self.stop = reg, threading.Event()
        self.seen: list[tuple[list[int], int | None]] = []  # (versions, current) observations
        self.errors: list[str] = []

    def run(self) -> None:
        while not self.stop.wait(0.05):
            try:
                versions = self.reg.versions(NS, TOPIC)
                for v in versions:
                    self.reg.verify(self.reg.ref(NS, TOPIC, v))  # manifest present, every file hash matches
                cur = self.reg.current(NS, TOPIC)
                self.seen.append((versions, cur.version if cur else None))
            except Exception as exc:  # a half-written version: missing manifest, bad hash, dangling pointer
                self.errors.append(repr(exc))


def publish_by_hand(reg: Registry) -> None:
    """v1 through the registry API (a stand-in adapter: this test is about the registry, not its weights)."""
    import torch

    reg.publish(NS, TOPIC, lambda d: save_file({"w": torch.zeros(2)}, str(d / "adapter_model.safetensors")),
                {"run_key": "by-hand", "facts": []})


def wait_info(c: Consolidations, task_id: str, want, timeout: float) -> dict:
    """Poll the task's state until `want(info)`; the state is one Redis GET, so 50 ms polling is cheap."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        st = c.state(NS, task_id)
        assert st["state"] not in ("FAILURE", "REVOKED", "SUCCESS"), st
        if st["state"] == "PROGRESS" and want(st["info"]):
            return st
        time.sleep(0.05)
    raise AssertionError(f"task {task_id}: condition not reached in {timeout}s: {c.state(NS, task_id)}")


@pytest.fixture
def setup(tmp_path, redis_url, embedder, smollm2_folder, cleanup_settings):
    s = fault_settings(tmp_path / "data", redis_url, base_model=str(smollm2_folder))
    cleanup_settings(s)
    svc = MemoryService(s, embedder=embedder)
    # niceness 0: this test is about crash recovery, and must not crawl when other work shares the machine
    worker = Worker(s, tmp_path / "worker.log", ENGRAM_CONSOLIDATION__WORKER_NICE="0")
    yield svc, worker
    worker.stop()
    svc.close()


@pytest.mark.timeout(900)  # ~2 min on an idle 2-core machine; minutes more when the cores are shared
def test_training_killed_five_times_publishes_exactly_once(setup):
    svc, worker = setup
    reg = Registry(svc.settings.adapters_dir)
    c = Consolidations(svc)
    facts = fictional_facts(6, seed=31)
    svc.write(NS, [FactIn(text=f.text, subject=f.subject, relation=f.relation, object=f.object, topic=TOPIC)
                   for f in facts])
    publish_by_hand(reg)
    watch = RegistryWatch(reg)
    watch.start()

    (task_id,) = c.request(NS, TOPIC)
    r = redis.Redis.from_url(svc.settings.redis.url)
    killed: list[int] = []
    try:
        for _ in range(KILLS):
            # a (re)delivered run reports "load" first; its first epoch means it is training now
            wait_info(c, task_id, lambda i: "epoch" not in i, timeout=120)
            wait_info(c, task_id, lambda i: "epoch" in i, timeout=120)
            active = c.celery.control.inspect(destination=[worker.name], timeout=5).active() or {}
            (pid,) = [t["worker_pid"] for t in active.get(worker.name, []) if t["id"] == task_id]
            assert pid not in killed  # a new training process each time: the task was redelivered
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
            assert worker.alive()  # only the child died; the worker's main process requeues the message
            assert reg.current(NS, TOPIC).version == 1 and reg.versions(NS, TOPIC) == [1]
        during = len(watch.seen)

        (st,) = wait_for_tasks(lambda t: c.state(NS, t), lambda: [task_id], 360)
    finally:
        watch.stop.set()
        watch.join()
        r.delete(f"celery-task-meta-{task_id}")

    assert st["info"]["status"] == "published" and st["info"]["version"] == 2, st
    assert not watch.errors, watch.errors[:5]
    assert during > 0 and all(obs == ([1], 1) for obs in watch.seen[:during])  # v1 served all along
    assert {tuple(v) for v, _ in watch.seen} <= {(1,), (1, 2)}
    assert reg.versions(NS, TOPIC) == [1, 2] and reg.current(NS, TOPIC).version == 2
    manifest = reg.verify(reg.current(NS, TOPIC))
    assert sorted(f["text"] for f in manifest["facts"]) == sorted(f.text for f in facts)
    assert not [p.name for p in reg.topic_dir(NS, TOPIC).iterdir() if p.name.startswith(".")]
    events = r.xrange(f"{svc.settings.redis.key_prefix}:events")
    published = [e for _, e in events if e.get(b"type") == b"adapter.published"]
    assert len(published) == 1 and json.loads(published[0][b"version"]) == 2
