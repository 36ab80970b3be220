"""The LLM path's validation (pure) and its fallback on the real service: a reply that does not validate is
asked again once, then the deterministic parse is used and the fallback counted."""

from __future__ import annotations

import pytest

from memory_service.llm import LLM, LLMFacts, counts, parse_reply


@pytest.mark.parametrize("reply, n", [
    ('{"facts": [{"sentence": 0, "subject": "the user", "relation": "live in", "object": "Oslo"}]}', 1),
    ('Here you go:\n```json\n{"facts": []}\n```', 0),
    ('Sure! {"facts": [{"sentence": 1, "subject": "Ana", "relation": "sister", "object": "Lund", '
     '"qualifier": "since 2019"}]} Hope that helps.', 1),
])
def test_a_valid_reply_parses_wherever_the_json_sits(reply, n):
    got = parse_reply(reply, LLMFacts)
    assert got is not None and len(got.facts) == n


@pytest.mark.parametrize("reply", ["I think the user lives in Oslo.", '{"facts": [{"sentence": 0}]}',
                                   '{"facts": [{"sentence": -1, "subject": "a", "relation": "b", "object": "c"}]}',
                                   '{"fact": []}', ""])
def test_an_invalid_reply_is_refused(reply):
    assert parse_reply(reply, LLMFacts) is None


def test_an_unreachable_endpoint_falls_back_to_the_parse_and_is_counted(service):
    from bench.procs import free_port

    service.llm = LLM(f"http://127.0.0.1:{free_port()}/v1", "none", timeout_s=1, redis=service.heat.r,
                      prefix=service.settings.redis.key_prefix)
    out = service.write_message("llm", "My uncle Tavish works as a ferry pilot.")
    assert {(s.relation, s.object) for s in out.stored if s.kind == "fact"} == {("uncle", "Tavish"),
                                                                                ("work as", "ferry pilot")}
    assert counts(service.heat.r, service.settings.redis.key_prefix) == {"requests": {"extract": 1},
                                                                        "fallbacks": {"extract": 1}}
