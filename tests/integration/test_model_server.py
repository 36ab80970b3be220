"""`engram serve-model` as a real process serving the packaged SmolLM2 over the OpenAI chat API, and the eval's
LLM judge talking to it through the openai client library."""

from __future__ import annotations

import httpx
import pytest
from openai import OpenAI

from bench.procs import ModelServer, free_port
from evals.judge import Judge

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server(integration_settings, tmp_path_factory):
    s = ModelServer(integration_settings, tmp_path_factory.mktemp("model-server") / "server.log")
    yield s
    s.stop()


def test_chat_completions_answer_in_the_openai_shape(server):
    client = OpenAI(base_url=server.url, api_key="none", max_retries=0)
    (model,) = client.models.list().data
    assert model.id.startswith("HuggingFaceTB/SmolLM2-135M-Instruct (gguf ")  # the id manifests record
    reply = client.chat.completions.create(model="any", messages=[
        {"role": "system", "content": "Answer in one word."},
        {"role": "user", "content": "What is the capital of France?"}], max_tokens=8, temperature=0)
    choice = reply.choices[0]
    assert choice.message.role == "assistant" and choice.message.content
    assert 0 < reply.usage.completion_tokens <= 8
    assert choice.finish_reason in ("stop", "length")
    # greedy: the same request gives the same answer
    again = client.chat.completions.create(model="any", messages=[
        {"role": "system", "content": "Answer in one word."},
        {"role": "user", "content": "What is the capital of France?"}], max_tokens=8)
    assert again.choices[0].message.content == choice.message.content


def test_a_bad_request_names_the_field(server):
    r = httpx.post(f"{server.url}/chat/completions", json={"messages": [{"role": "wizard", "content": "hi"}]})
    assert r.status_code == 422 and "role" in r.text
    r = httpx.post(f"{server.url}/chat/completions", json={"messages": []})
    assert r.status_code == 422 and "messages" in r.text


def test_judge_round_trip_counts_every_outcome(server):
    judge = Judge(server.url, "any")
    judge.check()
    labels = [judge("What is the capital of France?", "Paris", answer) for answer in ("Paris", "Lyon")]
    assert all(label in (True, False, None) for label in labels)
    stats = judge.stats()
    assert stats["asked"] == 2 and stats["errors"] == 0
    assert stats["unjudged"] == labels.count(None)  # a reply that never parsed is counted, not guessed
    assert stats["retried"] >= stats["unjudged"]  # each unjudged probe was asked twice


def test_judge_on_a_dead_endpoint_fails_early_and_loses_no_probe():
    url = f"http://127.0.0.1:{free_port()}/v1"
    judge = Judge(url, "any", timeout_s=2)
    with pytest.raises(ValueError, match="--judge-url http://127.0.0.1"):
        judge.check()
    assert judge("q", "gold", "answer") is None
    assert judge.stats()["errors"] == 1 and judge.stats()["asked"] == 1


def test_intake_with_the_llm_path_on_a_real_endpoint_keeps_every_statement(server, integration_settings):
    """The packaged 135M model rarely writes the JSON asked for: whatever it does, every statement is stored,
    each request is counted, and a request that failed twice is counted as a fallback to the parse."""
    from memory_service.llm import LLM, counts
    from memory_service.service import MemoryService

    svc = MemoryService(integration_settings)
    try:
        svc.llm = LLM(server.url, "any", timeout_s=120, redis=svc.heat.r, prefix=integration_settings.redis.key_prefix)
        out = svc.write_message("llm-it", "I grew up in Brackenford. My sister Ana lives in Lund.")
        assert [s.text for s in out.stored if s.kind == "statement"] == ["I grew up in Brackenford.",
                                                                         "My sister Ana lives in Lund."]
        seen = counts(svc.heat.r, integration_settings.redis.key_prefix)
        assert seen["requests"] == {"extract": 1} and seen["fallbacks"].get("extract", 0) in (0, 1)
        if seen["fallbacks"].get("extract"):  # the parse's facts
            assert ("live in", "Lund") in {(s.relation, s.object) for s in out.stored if s.kind == "fact"}
    finally:
        svc.close()


def test_question_synthesis_with_the_llm_path_on_a_real_endpoint(server, redis_url):
    """Whatever the packaged model writes, only checked questions are added: none gives its answer away or
    repeats a held-out one, the rules' questions are all still there, and the request is counted."""
    import uuid

    import redis

    from consolidation.synth import plain_words, build_dataset
    from memory_service.llm import LLM, counts
    from tests.tiny import make_fact

    r = redis.Redis.from_url(redis_url)
    prefix = f"engram-test-questions-{uuid.uuid4().hex[:8]}"
    facts = [make_fact("the user", "dentist", "Ada Brennock", "My dentist is Ada Brennock"),
             make_fact("Ada Brennock", "phone number", "415-555-0192", "Ada Brennock's number is 415-555-0192")]
    plain = build_dataset(facts)
    ds = build_dataset(facts, more_questions=LLM(server.url, "any", timeout_s=120, redis=r, prefix=prefix).questions)
    assert set(plain.train) <= set(ds.train) and ds.validation == plain.validation
    held_out = {plain_words(qa.question) for qa in ds.validation}
    for qa in (qa for qa in ds.train if qa.source == "llm"):
        assert qa.expected.lower() not in qa.question.lower() and plain_words(qa.question) not in held_out
    seen = counts(r, prefix)
    assert seen["requests"] == {"questions": 1} and seen["fallbacks"].get("questions", 0) in (0, 1)
    if seen["fallbacks"].get("questions"):
        assert ds.generated == 0
