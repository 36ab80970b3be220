"""Metrics on hand-made probe results: the arithmetic of accuracy, answered rate, percentiles, tokens, routing,
dialogue-length buckets and the target checks."""

from __future__ import annotations

import dataclasses

import pytest

from evals.metrics import (
    ALL, ProbeResult, accuracy_by_length, length_edges, percentile, summarize, summarize_modes, summarize_tags,
    target_checks,
)


def result(mode="lora", tag="taught", correct=True, *, scenario="s", answered=None, latency=100.0, tokens=50,
           topic=None, routed=(), facts=0, turn=0) -> ProbeResult:
    leak = tag in ("deleted", "other-namespace")
    return ProbeResult(
        scenario=scenario, mode=mode, session=0, turn=turn, tag=tag, question="q", expect=["a"], answer="",
        correct=correct, answered=(not correct if leak else correct) if answered is None else answered,
        latency_ms=latency, prompt_tokens=tokens, expected_topic=topic, routed_topics=list(routed),
        facts_so_far=facts, namespace="ns",
    )


def many(n_right: int, n_wrong: int, **kw) -> list[ProbeResult]:
    return [result(correct=True, **kw) for _ in range(n_right)] + [result(correct=False, **kw) for _ in range(n_wrong)]


def test_percentile_interpolates_like_numpy():
    assert percentile([10, 20, 30, 40], 50) == 25
    assert percentile([10, 20, 30, 40], 95) == pytest.approx(38.5)  # rank 2.85: 30 + 0.85 * 10
    assert percentile([40, 10, 30, 20], 0) == 10 and percentile([7], 95) == 7
    assert percentile([], 50) is None


def test_tag_summary_accuracy_latency_tokens():
    rs = [result(correct=c, latency=lat, tokens=tok)
          for c, lat, tok in [(True, 100, 10), (True, 200, 20), (True, 300, None), (False, 400, 30)]]
    (row,) = summarize_tags(rs)
    assert (row.scenario, row.mode, row.tag, row.n, row.metric) == ("s", "lora", "taught", 4, "accuracy")
    assert row.value == 0.75
    assert row.latency_p50_ms == 250 and row.latency_p95_ms == pytest.approx(385)  # 300 + 0.85 * 100
    assert row.mean_prompt_tokens == 20  # unknown token counts are left out, not counted as 0


def test_leak_tags_report_the_answered_rate():
    rs = many(3, 1, mode="rag", tag="deleted") + many(4, 0, mode="rag", tag="other-namespace")
    rows = {r.tag: r for r in summarize_tags(rs)}
    assert (rows["deleted"].metric, rows["deleted"].value) == ("answered", 0.25)  # 1 of 4 leaked
    assert (rows["other-namespace"].metric, rows["other-namespace"].value) == ("answered", 0.0)


def test_routing_accuracy_top1_over_probes_with_a_topic_in_routing_modes():
    rs = [
        result("hybrid", topic="music", routed=["music", "food"]),
        result("hybrid", topic="music", routed=["food", "music"]),  # right topic, not first
        result("hybrid", topic="food", routed=[]),  # routed nowhere
        result("hybrid", topic="food", routed=["food"]),
        result("hybrid", topic=None, routed=["food"]),  # no expected topic: not counted
        result("rag", topic="music", routed=["music"]),  # rag does not route
    ]
    rows = {r.mode: r for r in summarize_tags(rs)}
    assert (rows["hybrid"].routing_accuracy, rows["hybrid"].routed_n) == (0.5, 4)
    assert (rows["rag"].routing_accuracy, rows["rag"].routed_n) == (None, 0)


def test_mode_summary_counts_the_probes_asked_as_taught():
    asked = [dataclasses.replace(r, asked_as="What is my job?") for r in many(2, 1, tag="paraphrase")]
    unrelated = dataclasses.replace(result(tag="unrelated"), asked_as="What is my job?")  # not a recall probe
    (row,) = summarize_modes(asked + many(1, 1, tag="taught") + [unrelated])
    assert (row.asked_as_n, row.asked_as_right, row.recall_n) == (3, 2, 5)


def test_mode_summary_says_which_source_earned_each_right_answer():
    """A mode's recall is split by what answered: "weights as asked" counts only an adapter asked the user's own
    wording with no notes; the lookup and the taught rewording are theirs."""
    def by(source, correct, tag="paraphrase"):
        return dataclasses.replace(result(tag=tag, correct=correct), source=source)
    rs = [by("weights", True), by("weights", False), by("weights-taught", True), by("weights-taught", True),
          by("lookup", True), by("reading", False), by("weights", True, tag="unrelated")]  # not a recall probe
    (row,) = summarize_modes(rs)
    assert row.right_by_source == {"weights": 1, "weights-taught": 2, "lookup": 1}
    assert (row.recall_accuracy, row.weights_as_asked) == (4 / 6, 1 / 6)
    from evals.report import _sources
    assert _sources(row.right_by_source) == "lookup 1 · weights 1 · weights-taught 2"


def test_mode_summary_pools_recall_tags_only():
    rs = (many(3, 1, tag="taught") + many(1, 1, tag="paraphrase") + many(1, 0, tag="updated")
          + many(0, 2, tag="unrelated") + many(0, 2, tag="deleted"))
    (row,) = summarize_modes(rs)
    assert (row.n, row.recall_n) == (11, 7)
    assert row.recall_accuracy == pytest.approx(5 / 7)


def test_length_buckets():
    assert length_edges(0) == [0, 10]
    assert length_edges(10) == [0, 10]
    assert length_edges(60) == [0, 10, 20, 50, 100]
    rs = [result(correct=c, facts=f) for c, f in [(True, 0), (False, 10), (True, 11), (True, 20), (False, 35)]]
    rs.append(result(tag="deleted", correct=False, facts=35))  # not a recall probe: left out
    points = [(p.mode, p.low, p.high, p.n, p.accuracy) for p in accuracy_by_length(rs)]
    assert points == [("lora", 0, 10, 2, 0.5), ("lora", 10, 20, 2, 1.0), ("lora", 20, 50, 1, 0.0)]


def checks_by_name(rs):
    return {(c.scenario, c.name): c for c in target_checks(rs)}


def test_lora_targets():
    rs = many(18, 2, tag="taught") + many(15, 5, tag="paraphrase")  # 90% and 75%
    checks = checks_by_name(rs)
    taught, para = checks[("s", "lora taught accuracy >= 90%")], checks[("s", "lora paraphrase accuracy >= 80%")]
    assert (taught.value, taught.passed) == (0.9, True)  # exactly on the target passes
    assert (para.value, para.target, para.passed) == (0.75, 0.8, False)


def test_hybrid_must_match_the_better_of_rag_and_lora_per_scenario():
    rs = (many(8, 2, mode="rag", scenario="a") + many(6, 4, mode="lora", scenario="a")
          + many(8, 2, mode="hybrid", scenario="a")
          + many(5, 5, mode="rag", scenario="b") + many(9, 1, mode="lora", scenario="b")
          + many(7, 3, mode="hybrid", scenario="b"))
    checks = checks_by_name(rs)
    a, b = checks[("a", "hybrid recall >= max(rag, lora)")], checks[("b", "hybrid recall >= max(rag, lora)")]
    assert (a.value, a.target, a.passed, a.detail) == (0.8, 0.8, True, "best of the two: rag")
    assert (b.value, b.target, b.passed, b.detail) == (0.7, 0.9, False, "best of the two: lora")


def test_leaks_must_be_zero_in_every_mode():
    # for leak tags `correct` is the pass: many(right, wrong) -> `wrong` answers leaked
    rs = many(10, 0, mode="none", tag="deleted") + many(1, 9, mode="full", tag="deleted")
    rs += many(10, 0, mode="lora", tag="other-namespace")
    checks = checks_by_name(rs)
    none = checks[("s", "none deleted answered = 0%")]
    assert none.passed and not none.informative  # the base model has nothing to leak: it cannot fail
    full = checks[("s", "full deleted answered = 0%")]
    assert full.informative
    assert (full.value, full.passed) == (0.9, False)
    assert checks[("s", "lora other-namespace answered = 0%")].value == 0.0


def test_unrelated_within_two_points_of_none():
    rs = many(50, 50, mode="none", tag="unrelated")  # 50%
    rs += many(49, 51, mode="lora", tag="unrelated")  # 49%: 1 point lower, passes
    rs += many(47, 53, mode="rag", tag="unrelated")  # 47%: 3 points lower, fails
    rs += many(60, 40, mode="hybrid", tag="unrelated")  # better than none is fine
    checks = checks_by_name(rs)
    lora, rag = checks[("s", "lora unrelated >= none - 2 points")], checks[("s", "rag unrelated >= none - 2 points")]
    assert lora.target == pytest.approx(0.48) and lora.passed
    assert rag.value == 0.47 and not rag.passed
    assert checks[("s", "hybrid unrelated >= none - 2 points")].passed
    assert ("s", "none unrelated >= none - 2 points") not in checks


def test_checks_without_their_data_are_left_out():
    assert target_checks(many(3, 0, mode="rag")) == []


def test_summary_adds_a_pooled_scenario_when_there_are_several():
    rs = many(1, 0, scenario="a") + many(0, 1, scenario="b")
    summary = summarize(rs)
    pooled = [t for t in summary.tags if t.scenario == ALL]
    assert [(t.n, t.value) for t in pooled] == [(2, 0.5)]
    assert {c.scenario for c in summary.checks} == {"a", "b"}  # targets hold per scenario
    assert ALL not in {t.scenario for t in summarize(many(1, 0)).tags}
    assert set(summary.to_dict()) == {"tags", "modes", "by_length", "checks", "categories"}
