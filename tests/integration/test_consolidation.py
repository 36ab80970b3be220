"""End to end on real components: Redis, a Celery worker process, Qdrant Edge, the packaged SmolLM2.

A due event becomes a task; the worker trains, gates and publishes an adapter; the service marks the facts
consolidated; the adapter answers a taught question that the base model gets wrong. Then the worker's training
process is SIGKILLed mid-run: the task is redelivered and completes, and the old version serves meanwhile.
"""

from __future__ import annotations

import os
import signal
import time

import pytest
import torch

from consolidation.model import generate
from memory_service.registry import Registry
from memory_service.relay import Consolidations, Relay, wait_for_tasks
from memory_service.schemas import FactIn
from memory_service.service import MemoryService

pytestmark = pytest.mark.integration

FACTS = [
    FactIn(text="Quorlan Veddick lives in Brindlewick.", subject="Quorlan Veddick", relation="lives in",
           object="Brindlewick", topic="friends"),
    FactIn(text="Quorlan Veddick's pet is called Sprocket.", subject="Quorlan Veddick", relation="pet",
           object="Sprocket", topic="friends"),
    FactIn(text="Ysolde Marrak plays the dulcimer.", subject="Ysolde Marrak", relation="instrument",
           object="dulcimer", topic="friends"),
    FactIn(text="Ysolde Marrak works as a lamplighter.", subject="Ysolde Marrak", relation="works as",
           object="lamplighter", topic="friends"),
]
QUESTIONS = ["Where does Quorlan Veddick live?", "What is the name of Quorlan Veddick's pet?",
             "Which instrument does Ysolde Marrak play?", "What does Ysolde Marrak do for a living?"]


@pytest.fixture(scope="module")
def service(integration_settings, worker):
    from tests.conftest import Embedder

    svc = MemoryService(integration_settings, embedder=Embedder("packaged", threads=2))
    yield svc
    svc.close()


def wait_task(c: Consolidations, ns: str, task_id: str, timeout: float, until=("SUCCESS",)) -> dict:
    (st,) = wait_for_tasks(lambda t: c.state(ns, t), lambda: [task_id], timeout,
                           done=lambda sts: sts[0]["state"] in (*until, "FAILURE", "REVOKED"))
    assert st["state"] in until, st
    return st


def pump(relay: Relay, until, timeout: float = 30.0) -> None:
    deadline = time.time() + timeout
    while not until():
        assert time.time() < deadline, "relay did not apply the event in time"
        relay.step(block_ms=200)


def test_due_event_to_published_adapter(service, worker, base_model):
    c = Consolidations(service)
    relay = Relay(c, block_ms=200)
    ids = [r.id for r in service.write("alice", FACTS)]
    # a recall that returns all four makes them hot (threshold 0.9) -> the topic is due (min_facts 4)
    assert len(service.recall("alice", "Quorlan Veddick and Ysolde Marrak", limit=4)) == 4
    assert {t.topic: t.due for t in service.topics("alice")}["friends"]
    relay.step(block_ms=200)  # topic.due -> one consolidate task
    tasks = c.task_ids("alice")
    assert len(tasks) == 1
    st = wait_task(c, "alice", tasks[0], timeout=420)
    assert st["info"]["status"] == "published", st
    pump(relay, lambda: all(service.get("alice", i).consolidated_in for i in ids))
    assert {service.get("alice", i).consolidated_in for i in ids} == {"friends/v1"}
    topic = {t.topic: t for t in service.topics("alice")}["friends"]
    assert topic.unconsolidated == 0 and not topic.due

    reg = Registry(service.settings.adapters_dir)
    ref = reg.current("alice", "friends")
    manifest = reg.verify(ref)
    assert sorted(f["id"] for f in manifest["facts"]) == sorted(ids)
    assert manifest["gate"]["passed"] and manifest["gate"]["taught"] >= 0.95

    from peft import PeftModel

    torch.set_num_threads(2)
    pm = PeftModel.from_pretrained(base_model.model, str(ref.path))
    try:
        tuned = generate(pm, base_model.tokenizer, QUESTIONS[:2], max_new_tokens=16)
        with pm.disable_adapter():
            plain = generate(pm, base_model.tokenizer, QUESTIONS[:2], max_new_tokens=16)
    finally:
        pm.unload()
    assert "Brindlewick" in tuned[0] and "Sprocket" in tuned[1], tuned
    assert "Brindlewick" not in plain[0] and "Sprocket" not in plain[1], plain


def test_worker_killed_mid_training_redelivers_and_publishes_once(service, worker):
    c = Consolidations(service)
    relay = Relay(c, block_ms=200)
    reg = Registry(service.settings.adapters_dir)
    assert reg.current("alice", "friends").version == 1  # from the test above
    new = service.write("alice", [FactIn(text="Ysolde Marrak's favourite food is fig tart.", subject="Ysolde Marrak",
                                         relation="favourite food", object="fig tart", topic="friends")])[0]
    (task_id,) = c.request("alice", "friends")
    st = wait_task(c, "alice", task_id, timeout=300, until=("PROGRESS",))
    while "epoch" not in (st.get("info") or {}):  # kill it while it trains, not while it loads
        st = wait_task(c, "alice", task_id, timeout=300, until=("PROGRESS",))
        time.sleep(0.2)
    active = c.celery.control.inspect(destination=[worker.name], timeout=5).active()
    (pid,) = [t["worker_pid"] for t in active[worker.name] if t["id"] == task_id]
    os.kill(pid, signal.SIGKILL)
    # meanwhile the old version keeps serving and nothing half-written is visible
    assert reg.current("alice", "friends").version == 1
    assert reg.versions("alice", "friends") == [1]
    st = wait_task(c, "alice", task_id, timeout=420)
    assert st["info"]["status"] == "published" and st["info"]["version"] == 2
    assert reg.versions("alice", "friends") == [1, 2] and reg.current("alice", "friends").version == 2
    assert new.id in {f["id"] for f in reg.verify(reg.current("alice", "friends"))["facts"]}
    assert not [p for p in (reg.topic_dir("alice", "friends")).iterdir() if p.name.startswith(".tmp")]
    pump(relay, lambda: service.get("alice", new.id).consolidated_in == "friends/v2")
