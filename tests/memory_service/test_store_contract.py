"""One contract, two engines: Qdrant Edge (default) and qdrant-client local mode (stands in for a server)."""

import uuid

import numpy as np
import pytest

from memory_service.errors import InvalidInput, StoreLocked
from memory_service.settings import Settings
from memory_service.store import FactFilter, Point, open_store

DIM = 8


def open_engine(engine: str, path, dim: int = DIM):
    return open_store(Settings(data_dir=path, qdrant={"local_mode": engine == "local"}), dim)


def vec(i: int) -> np.ndarray:
    v = np.random.default_rng(i).standard_normal(DIM).astype(np.float32)
    return v / np.linalg.norm(v)


def point(i: int, ns: str = "a", topic: str = "t", status: str = "active", **extra) -> Point:
    payload = {"namespace": ns, "topic": topic, "status": status, "text": f"fact {i}", "consolidated_in": None}
    payload.update(extra)
    return Point(str(uuid.UUID(int=i + 1)), vec(i), payload)


@pytest.fixture
def store(engine, tmp_path):
    s = open_engine(engine, tmp_path)
    yield s
    s.close()


def test_upsert_retrieve_roundtrip(store):
    store.upsert([point(1, extra_field="x"), point(2)])
    got = {r.id: r for r in store.retrieve([point(1).id, point(2).id, str(uuid.uuid4())], with_vector=True)}
    assert set(got) == {point(1).id, point(2).id}
    assert got[point(1).id].payload["extra_field"] == "x"
    np.testing.assert_allclose(got[point(1).id].vector, vec(1), atol=1e-5)


def test_search_is_filtered_by_namespace(store):
    store.upsert([point(i, ns="a") for i in range(10)] + [point(i, ns="b") for i in range(10, 20)])
    hits = store.search(vec(15), FactFilter(namespace="a"), 5)  # nearest overall is in b
    assert len(hits) == 5 and all(h.payload["namespace"] == "a" for h in hits)
    assert store.search(vec(15), FactFilter(namespace="b"), 1)[0].id == point(15).id
    assert store.search(vec(15), FactFilter(namespace="b"), 1)[0].score == pytest.approx(1.0, abs=1e-4)


def test_batch_search_matches_single(store):
    store.upsert([point(i) for i in range(20)])
    batch = store.search_batch(np.stack([vec(3), vec(7)]), FactFilter(namespace="a"), 3)
    assert [h.id for h in batch[0]] == [h.id for h in store.search(vec(3), FactFilter(namespace="a"), 3)]
    assert batch[1][0].id == point(7).id


def test_filters_on_topic_status_subject_and_consolidation(store):
    store.upsert([
        point(1, topic="x"), point(2, topic="y"), point(3, topic="x", status="deleted"),
        point(4, topic="x", subject_key="marla"), point(5, topic="x", consolidated_in="x/v1"),
    ])
    ids = lambda flt: {r.id for r in store.scroll_all(flt)}  # noqa: E731
    assert ids(FactFilter(namespace="a", topic="x", status=("active",))) == {point(i).id for i in (1, 4, 5)}
    assert ids(FactFilter(namespace="a", status=("deleted",))) == {point(3).id}
    assert ids(FactFilter(namespace="a", subject_key=("marla", "other"))) == {point(4).id}
    assert ids(FactFilter(namespace="a", topic="x", consolidated=False)) == {point(i).id for i in (1, 3, 4)}
    assert ids(FactFilter(namespace="a", consolidated=True)) == {point(5).id}
    assert store.count(FactFilter(namespace="a", topic="x")) == 4
    assert store.count(FactFilter(namespace="nobody")) == 0


def test_scroll_pages_through_everything(store):
    store.upsert([point(i) for i in range(25)])
    seen, offset = [], None
    while True:
        page, offset = store.scroll(FactFilter(namespace="a"), 10, offset)
        seen += [r.id for r in page]
        if offset is None:
            break
    assert sorted(seen) == sorted(point(i).id for i in range(25))


def test_set_payload_and_delete(store):
    store.upsert([point(1), point(2)])
    store.set_payload([point(1).id], {"status": "superseded", "superseded_by": point(2).id})
    assert store.retrieve([point(1).id])[0].payload["status"] == "superseded"
    assert store.retrieve([point(1).id])[0].payload["text"] == "fact 1"  # other fields kept
    store.delete([point(2).id])
    assert store.retrieve([point(2).id]) == []


def test_durable_across_close_and_reopen(engine, tmp_path):
    s = open_engine(engine, tmp_path)
    s.upsert([point(i) for i in range(5)])
    s.set_payload([point(0).id], {"status": "deleted"})
    s.close()
    s = open_engine(engine, tmp_path)
    try:
        assert s.count(FactFilter(namespace="a")) == 5
        assert s.retrieve([point(0).id])[0].payload["status"] == "deleted"
        assert s.search(vec(3), FactFilter(namespace="a"), 1)[0].id == point(3).id
    finally:
        s.close()


def test_wrong_vector_size_is_refused_naming_both_sizes(engine, tmp_path):
    open_engine(engine, tmp_path, dim=DIM).close()
    with pytest.raises(InvalidInput) as exc:
        open_engine(engine, tmp_path, dim=384)
    assert "8" in exc.value.message and "384" in exc.value.message and exc.value.field == "embedder"


def test_second_opener_is_refused_while_the_first_holds_it(engine, tmp_path):
    first = open_engine(engine, tmp_path)
    try:
        with pytest.raises(StoreLocked):
            open_engine(engine, tmp_path)
    finally:
        first.close()
