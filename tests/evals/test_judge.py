"""The LLM judge's reply parsing and how J scores enter the summary and the report."""

from __future__ import annotations

import pytest

from evals.judge import parse_label
from evals.metrics import ProbeResult, summarize_categories
from evals.report import render_markdown
from evals.metrics import summarize


@pytest.mark.parametrize("reply, label", [
    ('{"label": "CORRECT"}', True),
    ('{"label": "wrong"}', False),
    ('```json\n{"label": "CORRECT"}\n```', True),
    ('Sure! {"label": "WRONG"} because the gold answer is Paris.', False),
    ("CORRECT", None),  # not the JSON it was asked for
    ('{"label": "MAYBE"}', None),
    ("", None),
    ('{"verdict": "CORRECT"}', None),
])
def test_parse_label(reply, label):
    assert parse_label(reply) is label


def result(mode, category, judged, correct=False):
    return ProbeResult(scenario="locomo-x", mode=mode, session=0, turn=0, tag="taught", question="q", expect=["a"],
                       answer="a" if correct else "b", correct=correct, answered=correct, latency_ms=1.0,
                       prompt_tokens=1, expected_topic=None, category=category, f1=1.0 if correct else 0.0,
                       judged=judged)


def test_j_is_over_the_judged_probes_only():
    rows = summarize_categories([result("rag", 4, True), result("rag", 4, False), result("rag", 4, None),
                                 result("lora", 4, None)])
    by_mode = {r.mode: r for r in rows}
    assert by_mode["rag"].j == 0.5 and by_mode["rag"].judged_n == 2 and by_mode["rag"].n == 3
    assert by_mode["lora"].j is None and by_mode["lora"].judged_n == 0


def test_report_shows_j_only_when_a_judge_ran():
    judged = render_markdown(summarize([result("rag", 4, True, correct=True)]), "t", plots=False)
    plain = render_markdown(summarize([result("rag", 4, None, correct=True)]), "t", plots=False)
    assert "J (LLM judge)" in judged and "100.0% (1)" in judged
    assert "J (LLM judge)" not in plain
