"""What the rag prompt is given: recall hits with each fact read from a statement replaced by the statement."""

from agent.nodes import as_said


def test_facts_read_from_a_statement_are_shown_as_the_statement_once(service):
    out = service.write_message("ana", "My cousin Fennimore plays bass in a band called the Sallow Kites.")
    statement = next(s for s in out.stored if s.kind == "statement")
    facts = [s for s in out.stored if s.kind == "fact"]
    assert len(facts) >= 2  # cousin, plays, band...
    hits = service.recall("ana", "What's the name of Fennimore's band?", limit=10)
    assert any(h.fact.derived_from for h in hits)
    shown = as_said(service, "ana", hits)
    assert [f.id for f, _ in shown] == [statement.id]  # every hit was the statement or read from it
    assert shown[0][1] == max(h.score for h in hits)  # at the rank of its best hit


def test_a_fact_whose_statement_was_superseded_is_shown_as_it_is(service):
    service.write_message("ana", "I live in Carrowmede.")
    service.write_message("ana", "We moved to Pellinghurst last month.")
    hits = service.recall("ana", "Where do I live?", limit=10)
    shown = [f.text for f, _ in as_said(service, "ana", hits)]
    assert "I live in Carrowmede." not in shown  # retired with the fact the move superseded
    assert any("Pellinghurst" in t for t in shown)


def test_a_statement_shown_as_the_next_ones_context_goes_once(service):
    service.write_message("ana", "My brother's Dorran. He's head chef at the Brinehook.")
    hits = service.recall("ana", "Who is my brother?", limit=10)
    shown = [f.attributed for f, _ in as_said(service, "ana", hits)]
    assert "My brother's Dorran. He's head chef at the Brinehook." in shown
    assert "My brother's Dorran." not in shown


def test_facts_below_the_prompt_threshold_stay_out_of_the_prompt(service):
    from agent.nodes import AgentContext, select_context

    ctx = AgentContext(service=service, registry=None, router=None, runtime=None, rag_k=3, rag_min_score=0.35)
    hits = [{"text": "I live in Carrowmede.", "score": 0.61, "consolidated_in": None},
            {"text": "My dentist is Oriel Tansby.", "score": 0.21, "consolidated_in": None}]
    assert select_context(ctx, {"hits": hits}, "rag") == ["I live in Carrowmede."]
    assert select_context(ctx, {"hits": hits[1:]}, "hybrid") == []
