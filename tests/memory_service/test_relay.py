"""The service side of consolidation on real Redis and a real store (no worker): events -> task messages,
published adapters -> fact updates, deletes -> stale topics."""

import json
import uuid

import pytest

from memory_service.relay import GROUP, Consolidations, Relay
from memory_service.schemas import FactIn
from memory_service.service import MemoryService
from tests.conftest import make_settings

FACTS = [FactIn(text=f"Quorlan Veddick's {rel} is {obj}", subject="Quorlan Veddick", relation=rel, object=obj,
                topic="friends") for rel, obj in [("pet", "Sprocket"), ("car", "a Tatra"), ("boat", "Heron")]]


@pytest.fixture
def svc(tmp_path, redis_url, embedder, cleanup_prefix):
    s = make_settings(tmp_path, redis_url, heat={"hot_threshold": 0.9, "min_facts": 2},
                      consolidation={"queue": f"q-{uuid.uuid4().hex[:8]}"})
    cleanup_prefix(s.redis.key_prefix)
    service = MemoryService(s, embedder=embedder)
    yield service
    service.heat.r.delete(s.consolidation.queue)
    service.close()


def queued(svc) -> list[dict]:
    """Task messages waiting in the Celery queue (kombu keeps a Redis list per queue)."""
    raw = svc.heat.r.lrange(svc.settings.consolidation.queue, 0, -1)
    return [json.loads(m) for m in raw]


def kwargs_of(message: dict) -> dict:
    import base64

    body = json.loads(base64.b64decode(message["body"]))
    return body[1]


def test_due_event_becomes_exactly_one_task_with_the_hot_facts(svc):
    ids = [r.id for r in svc.write("alice", FACTS)]
    svc.recall("alice", "What is Quorlan's pet?", limit=1)
    svc.recall("alice", "What car does Quorlan drive?", limit=1)  # two hot facts -> due
    relay = Relay(Consolidations(svc), block_ms=100)
    assert relay.step(block_ms=100) == 1
    assert relay.step(block_ms=100) == 0  # nothing twice
    (msg,) = queued(svc)
    kw = kwargs_of(msg)
    assert kw["namespace"] == "alice" and kw["topic"] == "friends" and kw["reason"] == "topic.due"
    assert {f["id"] for f in kw["facts"]} == set(ids[:2])  # hot ones only


def test_event_taken_by_a_dead_consumer_is_relayed_once(svc):
    svc.write("alice", FACTS)
    c = Consolidations(svc)
    r, stream = svc.heat.r, f"{svc.settings.redis.key_prefix}:events"
    Relay(c)._ensure_group()
    r.xadd(stream, {"type": "consolidation.requested", "namespace": "alice", "topic": "friends"})
    r.xreadgroup(GROUP, "crashed-consumer", {stream: ">"}, count=10)  # read, never acked: it died
    relay = Relay(c, block_ms=100, claim_idle_ms=0)
    assert relay.step(block_ms=100) == 1
    assert len(queued(svc)) == 1 and r.xpending(stream, GROUP)["pending"] == 0


def test_published_adapter_marks_facts_and_delete_makes_topic_stale(svc):
    ids = [r.id for r in svc.write("alice", FACTS)]
    c = Consolidations(svc)
    relay = Relay(c, block_ms=100)
    r, stream = svc.heat.r, f"{svc.settings.redis.key_prefix}:events"
    r.xadd(stream, {"type": "adapter.published", "namespace": "alice", "topic": "friends",
                    "parent_topic": "friends", "version": "1", "fact_ids": json.dumps(ids)})
    relay.step(block_ms=100)
    assert {svc.get("alice", i).consolidated_in for i in ids} == {"friends/v1"}
    topic = svc.topics("alice")[0]
    assert topic.unconsolidated == 0 and not topic.stale
    svc.delete("alice", ids[0])
    assert svc.topics("alice")[0].stale
    relay.step(block_ms=100)  # topic.stale -> rebuild with the remaining facts
    (msg,) = queued(svc)
    assert {f["id"] for f in kwargs_of(msg)["facts"]} == set(ids[1:])


def test_manual_request_state_and_unknown_ids(svc):
    svc.write("alice", FACTS)
    c = Consolidations(svc)
    (tid,) = c.request("alice", "friends")
    assert c.state("alice", tid)["state"] == "PENDING" and c.state("alice", tid)["facts"] == 3
    from memory_service.errors import NotFound

    with pytest.raises(NotFound):
        c.state("alice", "nope")
    with pytest.raises(NotFound):
        c.request("alice", "no-such-topic")


def test_big_topic_is_split_into_shards(tmp_path, redis_url, embedder, cleanup_prefix):
    s = make_settings(tmp_path, redis_url, consolidation={"queue": f"q-{uuid.uuid4().hex[:8]}", "capacity_facts": 4})
    cleanup_prefix(s.redis.key_prefix)
    with MemoryService(s, embedder=embedder) as service:
        facts = [FactIn(text=f"Quorlan Veddick's cousin number {i} is called Name{i}", topic="family")
                 for i in range(6)] + [FactIn(text=f"The ferry to island {i} leaves at {i} pm", topic="family")
                                       for i in range(4)]
        service.write("alice", facts)
        ids = Consolidations(service).request("alice", "family")
        msgs = [kwargs_of(m) for m in queued(service)]
        service.heat.r.delete(s.consolidation.queue)
    assert len(ids) == len(msgs) >= 3
    assert all(len(m["facts"]) <= 4 for m in msgs)
    assert sorted(m["topic"] for m in msgs) == [f"family--{i + 1}" for i in range(len(msgs))]
    assert {m["parent_topic"] for m in msgs} == {"family"}
