"""The memory service on real Redis, real Qdrant (Edge and local mode) and the real embedder."""

import threading

import pytest
import redis

from memory_service.errors import InvalidInput, NotFound, ServiceUnavailable
from memory_service.heat import HeatTracker
from memory_service.schemas import FactIn
from memory_service.service import MemoryService
from memory_service.store import FactFilter
from tests.conftest import make_settings

LISBON = FactIn(text="Marla Quenby lives in Lisbon", subject="Marla Quenby", relation="lives in", object="Lisbon")
OSLO = FactIn(text="Marla Quenby lives in Oslo", subject="Marla Quenby", relation="lives in", object="Oslo")


def test_write_then_recall(service):
    (res,) = service.write("alice", [LISBON])
    assert res.outcome == "created"
    hits = service.recall("alice", "Where does Marla Quenby live?")
    assert hits[0].fact.id == res.id and hits[0].fact.text == LISBON.text and hits[0].heat == pytest.approx(1.0)


def test_supersede_keeps_old_fact_marked(service):
    old = service.write("alice", [LISBON])[0]
    new = service.write("alice", [OSLO])[0]
    assert new.supersedes == old.id
    assert service.get("alice", old.id).status == "superseded"
    assert service.get("alice", old.id).superseded_by == new.id
    assert [h.fact.text for h in service.recall("alice", "Where does Marla live?")][0] == OSLO.text
    assert all(h.fact.id != old.id for h in service.recall("alice", "Marla Quenby lives in Lisbon", limit=10))


def test_supersede_within_one_batch_keeps_the_last(service):
    res = service.write("alice", [LISBON, OSLO])
    assert res[1].supersedes == res[0].id
    assert service.get("alice", res[0].id).status == "superseded"
    assert service.get("alice", res[1].id).status == "active"


def test_same_object_is_not_a_supersede(service):
    first = service.write("alice", [LISBON])[0]
    again = service.write("alice", [FactIn(text="Marla Quenby resides in Lisbon, Portugal", subject="marla quenby",
                                           relation="Lives in", object="lisbon")])[0]
    assert again.supersedes is None
    assert service.get("alice", first.id).status == "active"


def test_near_duplicate_returns_existing_id(service):
    first = service.write("alice", [FactIn(text="Marla Quenby lives in Lisbon.")])[0]
    dup = service.write("alice", [FactIn(text="marla quenby lives in lisbon")])[0]
    assert dup.outcome == "duplicate" and dup.id == first.id
    in_batch = service.write("alice", [FactIn(text="Tomas Reyk owns a red kayak"),
                                       FactIn(text="Tomas Reyk owns a red kayak!")])
    assert in_batch[1].outcome == "duplicate" and in_batch[1].id == in_batch[0].id
    assert service.store.count(FactFilter(namespace="alice")) == 2


def test_duplicate_in_other_namespace_is_a_new_fact(service):
    a = service.write("alice", [LISBON])[0]
    b = service.write("bob", [LISBON])[0]
    assert b.outcome == "created" and b.id != a.id


def test_namespace_isolation(service):
    service.write("alice", [LISBON, FactIn(text="Alice's bank PIN is 4417")])
    service.write("bob", [FactIn(text="Bob keeps bees in Tallinn")])
    for q in ("What is the bank PIN?", "Where does Marla live?", "bees"):
        assert all(h.fact.namespace == "bob" for h in service.recall("bob", q, limit=50))
    alice_id = service.list("alice")[0][0].id
    with pytest.raises(NotFound):
        service.get("bob", alice_id)
    with pytest.raises(NotFound):
        service.delete("bob", alice_id)
    assert service.get("alice", alice_id).namespace == "alice"


def test_topic_assignment_explicit_nearest_or_new(service):
    r = service.write("alice", [FactIn(text="Marla Quenby plays the cello", topic="marla-music")])[0]
    assert r.topic == "marla-music"
    near = service.write("alice", [FactIn(text="Marla Quenby plays cello in an orchestra")])[0]
    assert near.topic == "marla-music"
    far = service.write("alice", [FactIn(text="The warehouse roof leaks when it rains")])[0]
    assert far.topic not in ("marla-music", "") and far.topic.replace("-", "").isalnum()


def test_delete_hides_fact_from_recall(service):
    fid = service.write("alice", [LISBON])[0].id
    assert service.delete("alice", fid).status == "deleted"
    assert service.recall("alice", "Where does Marla Quenby live?", limit=10) == []
    assert service.get("alice", fid).status == "deleted"
    assert service.list("alice", status="deleted")[0][0].id == fid


def test_topics_report_heat_and_due(service):
    # fixture: hot at 1.5 (two recalls), due at 2 hot facts
    ids = [r.id for r in service.write("alice", [
        FactIn(text="Marla Quenby's cat is named Biscuit", topic="pets"),
        FactIn(text="Marla Quenby's parrot is named Ziggy", topic="pets"),
        FactIn(text="Marla Quenby's car is a blue Volvo", topic="car"),
    ])]
    for _ in range(2):
        service.recall("alice", "What is Marla's cat called?", limit=1)
        service.recall("alice", "What is Marla's parrot called?", limit=1)
    topics = {t.topic: t for t in service.topics("alice")}
    assert topics["pets"].due and topics["pets"].hot == 2 and topics["pets"].heat == pytest.approx(4.0, rel=1e-3)
    assert not topics["car"].due and topics["car"].facts == 1
    events = service.heat.r.xrange(service.heat.keys.events)
    assert [e[b"topic"] for _, e in events] == [b"pets"]
    assert service.heat.pending("alice", "pets") and ids


def test_due_event_once_under_concurrent_recalls(service):
    service.write("alice", [FactIn(text="Marla Quenby's cat is named Biscuit", topic="pets"),
                            FactIn(text="Marla Quenby's parrot is named Ziggy", topic="pets")])
    errors = []

    def ask():
        try:
            for _ in range(4):
                service.recall("alice", "Marla's pets: cat and parrot names", limit=2)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(6)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert not errors
    assert len(service.heat.r.xrange(service.heat.keys.events)) == 1


# --- bad input: a clear error, nothing written ---------------------------------------------------------

@pytest.mark.parametrize("text, field", [("", "facts[1].text"), ("   ", "facts[1].text"), ("x" * 1001, "facts[1].text")])
def test_bad_text_rejects_whole_batch(service, text, field):
    with pytest.raises(InvalidInput) as exc:
        service.write("alice", [LISBON, FactIn(text=text)])
    assert exc.value.field == field
    assert service.store.count(FactFilter(namespace="alice")) == 0


@pytest.mark.parametrize("ns", ["", "../x", "a/b", "x" * 200, "white space"])
def test_bad_namespace(service, ns):
    with pytest.raises(InvalidInput) as exc:
        service.write(ns, [LISBON])
    assert exc.value.field == "namespace"


def test_bad_topic_slug(service):
    with pytest.raises(InvalidInput) as exc:
        service.write("alice", [FactIn.model_construct(text="ok fact", topic="../x")])
    assert exc.value.field == "facts[0].topic"
    with pytest.raises(ValueError):
        FactIn(text="ok", topic="Not A Slug")


def test_unknown_namespace_and_fact(service):
    with pytest.raises(NotFound) as exc:
        service.recall("nobody", "hello")
    assert exc.value.field == "namespace"
    service.write("alice", [LISBON])
    with pytest.raises(NotFound):
        service.get("alice", "00000000-0000-0000-0000-000000000000")
    with pytest.raises(InvalidInput) as bad:
        service.get("alice", "not-a-uuid")
    assert bad.value.field == "fact_id"


def test_redis_down_fails_cleanly_without_partial_write(tmp_path, embedder, engine):
    s = make_settings(tmp_path, "redis://127.0.0.1:1/0", engine)
    with pytest.raises(ServiceUnavailable) as exc:
        MemoryService(s, embedder=embedder)
    assert exc.value.service == "redis"
    dead = HeatTracker(redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2), s.heat, "x")
    svc = MemoryService(s, embedder=embedder, heat=dead)
    try:
        with pytest.raises(ServiceUnavailable):
            svc.write("alice", [LISBON])
        assert svc.store.count(FactFilter(namespace="alice")) == 0
    finally:
        svc.close()


def test_embedded_redis_when_url_unreachable(tmp_path, embedder):
    s = make_settings(tmp_path, "redis://127.0.0.1:1/0", redis={"url": "redis://127.0.0.1:1/0",
                                                                "embedded_fallback": True})
    with MemoryService(s, embedder=embedder) as svc:
        assert svc.redis_url.startswith("unix://")
        fid = svc.write("alice", [LISBON])[0].id
        assert svc.recall("alice", "Where does Marla live?")[0].fact.id == fid
    assert (tmp_path / "redis.db").exists() or any(tmp_path.iterdir())


def test_facts_survive_service_restart(tmp_path, redis_url, embedder, engine, cleanup_prefix):
    s = make_settings(tmp_path, redis_url, engine)
    cleanup_prefix(s.redis.key_prefix)
    with MemoryService(s, embedder=embedder) as svc:
        fid = svc.write("alice", [LISBON])[0].id
    with MemoryService(s, embedder=embedder) as svc:
        assert svc.get("alice", fid).text == LISBON.text
        assert svc.write("alice", [OSLO])[0].supersedes == fid
