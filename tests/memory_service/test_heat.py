"""Heat decay math (pure) and the Redis script that applies it: due detection, one event per topic."""

import threading

import pytest

from memory_service.heat import decay, is_due, parse
from memory_service.settings import HeatSettings


def test_decay_halves_after_one_half_life():
    assert decay(8.0, at=100.0, now=100.0 + 60.0, half_life_s=60.0) == pytest.approx(4.0)
    assert decay(8.0, at=100.0, now=100.0 + 180.0, half_life_s=60.0) == pytest.approx(1.0)


def test_decay_never_grows_for_clock_skew():
    assert decay(5.0, at=200.0, now=100.0, half_life_s=60.0) == 5.0


def test_parse_missing_value_is_cold():
    assert parse(None, 0.0, 10.0) == 0.0
    assert parse(b"4:0", 10.0, 10.0) == pytest.approx(2.0)


@pytest.mark.parametrize(
    "created, now, expected",
    [
        ([], 1000.0, False),
        ([999.0], 1000.0, False),  # one hot fact, young
        ([999.0, 998.0], 1000.0, True),  # min_facts reached
        ([0.0], 1000.0, True),  # one hot fact older than max_wait
    ],
)
def test_is_due(created, now, expected):
    cfg = HeatSettings(min_facts=2, max_wait_s=500.0)
    assert is_due(created, now, cfg) is expected


def test_script_decays_like_python(tracker):
    t = tracker(half_life_s=100.0, hot_threshold=10.0)
    t.hit("ns", [("f1", "a")], now=1000.0)
    heats, _ = t.hit("ns", [("f1", "a")], now=1100.0)
    assert heats[0] == pytest.approx(decay(1.0, 1000.0, 1100.0, 100.0) + 1.0)  # 1.5
    assert t.fact_heat("ns", ["f1", "missing"], now=1200.0) == pytest.approx([0.75, 0.0])


def test_topic_due_after_enough_hot_pending_facts(tracker):
    t = tracker(half_life_s=1e6, hot_threshold=1.9, min_facts=2, max_wait_s=1e9)
    t.add_pending("ns", [("f1", "a", 0.0), ("f2", "a", 0.0), ("f3", "b", 0.0)])
    assert t.hit("ns", [("f1", "a"), ("f2", "a")], now=10.0)[1] == []
    assert t.hit("ns", [("f1", "a")], now=11.0)[1] == []  # only f1 is hot
    assert t.hit("ns", [("f2", "a"), ("f3", "b")], now=12.0)[1] == ["a"]
    assert t.hit("ns", [("f1", "a"), ("f2", "a")], now=13.0)[1] == []  # due once, not again
    events = t.r.xrange(t.keys.events)
    assert [(e[b"type"], e[b"topic"]) for _, e in events] == [(b"topic.due", b"a")]
    info = {x.topic: x for x in t.topics("ns", ["a", "b"], now=13.0)}
    assert info["a"].due and info["a"].hot == 2 and not info["b"].due


def test_consolidated_facts_do_not_count(tracker):
    t = tracker(half_life_s=1e6, hot_threshold=1.0, min_facts=1, max_wait_s=1e9)
    t.add_pending("ns", [("f1", "a", 0.0)])
    t.forget("ns", [("f1", "a")])  # e.g. consolidated or deleted
    assert t.hit("ns", [("f1", "a")], now=5.0)[1] == []


def test_sweep_finds_topics_due_by_age(tracker):
    t = tracker(half_life_s=1e6, hot_threshold=0.9, min_facts=5, max_wait_s=100.0)
    t.add_pending("ns", [("f1", "a", 0.0)])
    assert t.hit("ns", [("f1", "a")], now=50.0)[1] == []  # hot but young
    assert t.sweep("ns", ["a"], now=99.0) == []
    assert t.sweep("ns", ["a"], now=101.0) == ["a"]


def test_due_event_emitted_exactly_once_under_concurrent_recalls(tracker):
    t = tracker(half_life_s=1e6, hot_threshold=2.9, min_facts=3, max_wait_s=1e9)
    facts = [(f"f{i}", "topic-x") for i in range(6)]
    t.add_pending("ns", [(f, "topic-x", 0.0) for f, _ in facts])
    became_due: list[str] = []
    barrier = threading.Barrier(8)

    def worker():
        barrier.wait()
        for _ in range(5):
            became_due.extend(t.hit("ns", facts)[1])

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert became_due == ["topic-x"]
    assert len(t.r.xrange(t.keys.events)) == 1
    assert t.fact_heat("ns", ["f0"])[0] == pytest.approx(40.0, rel=1e-3)  # 8 threads x 5 hits, none lost
