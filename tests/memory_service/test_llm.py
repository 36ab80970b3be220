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


@pytest.fixture
def stub_llm():
    """The stub endpoint (tests/memory_service/llm_stub.py), a real HTTP process."""
    import subprocess
    import sys
    from pathlib import Path

    proc = subprocess.Popen([sys.executable, str(Path(__file__).with_name("llm_stub.py"))], stdout=subprocess.PIPE,
                            text=True)
    try:
        port = int(proc.stdout.readline())
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_what_the_llm_reads_and_writes_is_used(service, stub_llm):
    """Contract with an OpenAI-compatible endpoint: its extraction replaces the parse's facts (and is counted as
    a request, not a fallback), and its questions join the training data as questions of their own."""
    from consolidation.synth import build_dataset

    llm = LLM(stub_llm, "stub", timeout_s=10, redis=service.heat.r, prefix=service.settings.redis.key_prefix)
    service.llm = llm
    out = service.write_message("llm", "My uncle Tavish works as a ferry pilot. I live in Oslo.")
    facts = {(s.subject, s.relation, s.object) for s in out.stored if s.kind == "fact"}
    assert facts == {("the user", "told the stub first", "item 0"), ("the user", "told the stub second", "item 1")}
    assert counts(service.heat.r, service.settings.redis.key_prefix) == {"requests": {"extract": 1},
                                                                        "fallbacks": {}}
    stored = [f for f in service.all_active("llm") if f.derived_from]
    ds = build_dataset(stored, more_questions=llm.questions)
    written = {qa.question for qa in ds.train if qa.source == "llm"}
    assert written >= {"What did the stub hear first?", "What did the stub hear second?"}
    assert all(qa.expected.startswith("item ") for qa in ds.train if qa.source == "llm")
