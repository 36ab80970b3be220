"""bench.forget's scoring, on the real service: a case is right only when exactly what it names is deleted."""

from __future__ import annotations

from bench.forget import kind_of, measure


def test_a_forget_case_is_right_only_when_exactly_its_statements_go_and_the_request_is_not_kept(service):
    cases = [{"said": ["My rent is 900 pounds a month.", "I live in Leeds."],
              "request": "Could you forget what I said about my rent?", "forgets": ["My rent is 900 pounds a month."]},
             {"said": ["My rent is 900 pounds a month.", "I live in Leeds."],  # names the wrong statement
              "request": "Could you forget what I said about my rent?", "forgets": ["I live in Leeds."]},
             {"said": ["I live in Leeds."], "request": "I forgot my keys.", "forgets": [], "kept": True},
             {"said": ["I live in Leeds."], "request": "I moved to Oslo.", "now": ["live in", "Oslo"],
              "gone": ["Leeds"]},
             {"said": ["I live in Leeds."], "request": "I moved to Oslo.", "now": ["live in", "Bergen"]}]
    assert [kind_of(c) for c in cases] == ["forget", "forget", "not a request", "update", "update"]
    result = measure(cases, service)
    assert [e["request"] for e in result["errors"]] == ["Could you forget what I said about my rent?",
                                                        "I moved to Oslo."]
    assert result["acted_on"]["forget"] == {"right": 1, "of": 2, "share": 0.5}
    assert result["acted_on"]["update"]["right"] == 1 and result["wrongly_deleted"] == 1
