"""The agent end to end: a fact stated in chat is written, consolidated by a real worker, hot-loaded and
answered in `lora` mode (no facts in the prompt); once deleted it is never answered again, before and after
the rebuild."""

from __future__ import annotations

import time

import pytest
from langgraph.checkpoint.memory import MemorySaver

from agent.graph import compile_graph, make_context
from memory_service.relay import Consolidations, Relay
from memory_service.service import MemoryService

pytestmark = pytest.mark.integration

STATEMENTS = ["I moved to Brindlewick.", "My name is Quorlan Veddick.", "I play the dulcimer.",
              "I drive a green Tatra."]


def test_chat_fact_to_weights_and_forgotten_on_delete(integration_settings, worker, base_model):
    from tests.conftest import Embedder

    svc = MemoryService(integration_settings, embedder=Embedder("packaged", threads=2))
    try:
        ctx = make_context(integration_settings, svc, base_model)
        graph = compile_graph(ctx, MemorySaver())
        relay = Relay(Consolidations(svc), block_ms=200)

        def say(msg, mode="lora"):
            return graph.invoke({"namespace": "carol", "message": msg, "mode": mode},
                                {"configurable": {"thread_id": "t"}})

        written = [say(s)["written"][0] for s in STATEMENTS]
        assert all(w["topic"] == "life" for w in written)
        assert "Brindlewick" not in say("Where do I live?", "none")["answer"]
        for q in ("Where do I live?", "What is my name?", "Which instrument do I play?", "What car do I drive?"):
            svc.recall("carol", q, limit=1)  # what the agent's recall does each turn: all four hot -> due
        assert {t.topic: t.due for t in svc.topics("carol")}["life"]
        deadline = time.time() + 300
        while ctx.registry.current("carol", "life") is None or \
                svc.get("carol", written[0]["id"]).consolidated_in is None:
            assert time.time() < deadline, "no adapter published in time"
            relay.step(block_ms=500)
        out = say("Where do I live?")
        assert out["routes"] and out["routes"][0]["topic"] == "life" and out["context"] == []
        assert "Brindlewick" in out["answer"], out
        # forget it: stale at once, so the adapter that holds it is not used any more
        svc.delete("carol", written[0]["id"])
        out = say("Where do I live?")
        assert out["routes"] == [] and "Brindlewick" not in out["answer"]
        assert "Brindlewick" not in say("Where do I live?", "hybrid")["answer"]
        # the rebuild (without it) is published and used; the deleted fact is still not answered
        deadline = time.time() + 300
        while ctx.registry.current("carol", "life").version < 2 or "life" in svc.heat.stale("carol"):
            assert time.time() < deadline, "no rebuild published in time"
            relay.step(block_ms=500)
        ref = ctx.registry.current("carol", "life")
        assert written[0]["id"] not in {f["id"] for f in ref.manifest()["facts"]}
        out = say("Where do I live?")
        assert "Brindlewick" not in out["answer"]
        assert "dulcimer" in say("Which instrument do I play?")["answer"]
    finally:
        svc.close()
