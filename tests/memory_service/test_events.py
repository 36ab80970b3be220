"""The Redis layout and the event schema (memory_service.events), on the real Redis."""

import pytest
from pydantic import ValidationError

from memory_service.events import ADAPTER_PUBLISHED, TOPIC_DUE, Event, Keys, emit
from memory_service.relay import Consolidations, Relay
from memory_service.schemas import FactIn
from tests.conftest import make_settings


def test_scanned_keys_parse_back_to_their_namespace_and_topic():
    k = Keys("engram-x")
    assert k.parse_pending(k.pending("alice@example.com", "home--2").encode()) == ("alice@example.com", "home--2")
    for key in (k.stale("team.a-1"), k.due("team.a-1"), k.heat_topics("team.a-1")):
        assert k.parse_ns(key) == "team.a-1", key
    assert k.pattern("stale") == "engram-x:stale:*" and k.pattern() == "engram-x:*"


def test_an_event_survives_the_stream_as_it_was_sent(redis_url):
    import redis

    r = redis.Redis.from_url(redis_url)
    keys = Keys("engram-test-events")
    sent = Event(type=ADAPTER_PUBLISHED, namespace="alice", topic="home--2", parent_topic="home", version="3",
                 status="published", fact_ids=["a", "b"], reasons=[], task_id="t-1")
    try:
        with r.pubsub() as sub:
            sub.subscribe(keys.adapters)
            sub.get_message(timeout=1)  # the subscribe confirmation
            emit(r, keys, sent)
            (_, fields), = r.xrange(keys.events)
            assert Event.from_fields(fields) == sent
            msg = sub.get_message(timeout=2)
            assert Event.model_validate_json(msg["data"]) == sent
    finally:
        r.delete(keys.events)


def test_the_heat_script_writes_events_the_schema_reads(tracker):
    t = tracker(hot_threshold=1.0, min_facts=1)
    t.add_pending("alice", [("f1", "pets", 90.0)])
    _, due = t.hit("alice", [("f1", "pets")], now=100.0)
    assert due == ["pets"]
    (_, fields), = t.r.xrange(t.keys.events)
    event = Event.from_fields(fields)
    assert (event.type, event.namespace, event.topic, event.hot_facts, event.at) == (TOPIC_DUE, "alice", "pets", 1,
                                                                                     100.0)


def test_an_unknown_event_is_refused_by_the_schema():
    with pytest.raises(ValidationError):
        Event.from_fields({b"type": b"topic.exploded", b"namespace": b"a", b"topic": b"t"})


def test_the_relay_skips_an_event_it_cannot_read_and_goes_on(tmp_path, redis_url, embedder, cleanup_prefix):
    from memory_service.service import MemoryService

    s = make_settings(tmp_path, redis_url, consolidation={"queue": "q-events-test"})
    cleanup_prefix(s.redis.key_prefix)
    with MemoryService(s, embedder=embedder) as svc:
        svc.write("alice", [FactIn(text="Quorlan Veddick's pet is Sprocket", topic="friends")])
        c = Consolidations(svc)
        svc.heat.r.xadd(c.keys.events, {"type": "something.else", "namespace": "alice", "topic": "friends"})
        svc.heat.r.xadd(c.keys.events, {"type": "consolidation.requested", "namespace": "alice", "topic": "friends"})
        relay = Relay(c, block_ms=100)
        assert relay.step(block_ms=100) == 2  # both acknowledged: the unreadable one is not retried forever
        assert len(c.task_ids("alice")) == 1
        assert relay.step(block_ms=100) == 0
        svc.heat.r.delete(s.consolidation.queue)


def test_every_change_of_the_active_facts_moves_the_generation(service):
    ns = "alice"
    g0 = service.heat.generation(ns)
    [w] = service.write(ns, [FactIn(text="Marla Quenby lives in Lisbon", subject="Marla Quenby",
                                    relation="lives in", object="Lisbon", topic="home")])
    g1 = service.heat.generation(ns)
    service.write(ns, [FactIn(text="Marla Quenby lives in Porto", subject="Marla Quenby", relation="lives in",
                              object="Porto", topic="home")])  # supersedes
    g2 = service.heat.generation(ns)
    service.delete(ns, service.all_active(ns)[0].id)
    g3 = service.heat.generation(ns)
    assert g0 < g1 < g2 < g3
    service.recall(ns, "Where does Marla live?")  # reads change nothing
    assert service.heat.generation(ns) == g3
