"""The agent graph on a tiny model (real Redis, real Edge store, real embedder): writes facts from chat,
recalls, routes to a published adapter, never uses a stale one, and keeps the thread in its checkpointer."""

import math

import pytest
from langgraph.checkpoint.memory import MemorySaver

from agent.graph import compile_graph
from agent.nodes import AgentContext, active_by_topic, answers_as_asked, observe, recall, route
from agent.questions import QuestionBank, TaughtQuestions
from agent.router import Router
from agent.runtime import AdapterRuntime
from consolidation.gate import GateThresholds
from consolidation.run import consolidate
from consolidation.train import Recipe
from language.answer_kinds import fits_the_question, grounded, whole_name
from memory_service.errors import InvalidInput
from memory_service.registry import Registry
from memory_service.schemas import FactIn
from tests.tiny import build_tiny_base, build_tiny_tokenizer

WORDS = "I moved to Oslo Lima my sister is Ana Where do live Who The user lives in 's it that Tell me Do you know"
# short answers, few replayed questions, no KL: a tiny model learns them in seconds, and these tests are about the
# graph (the recipe is measured by bench.recipes)
RECIPE = Recipe(rank=8, alpha=16, lr=1e-2, top_layers=2, max_epochs=80, batch_size=2, short_answers=True, replay=6,
                kl=0.0)


@pytest.fixture
def ctx(service, engine):
    if engine != "edge":
        pytest.skip("the graph does not depend on the engine")
    base = build_tiny_base(build_tiny_tokenizer(WORDS))
    registry = Registry(service.settings.adapters_dir)
    return AgentContext(service=service, registry=registry, router=Router(registry, service.embedder, min_score=0.0),
                        runtime=AdapterRuntime(base, registry), max_new_tokens=4)


def publish(ctx, fid: str):
    """Consolidate a fact and the statement it was read from into their topic's adapter (v1) and mark what it
    holds, as the relay would."""
    fact = ctx.service.get("alice", fid)
    facts = [fact, *ctx.service.linked("alice", fact)]
    out = consolidate("alice", fact.topic, facts, base=ctx.runtime.base, registry=ctx.registry, recipe=RECIPE,
                      thresholds=GateThresholds(validation=0.0, probe_tolerance=1.0))
    assert out.status == "published", out.reasons
    assert set(out.fact_ids) == {f.id for f in facts}  # the statement is held through its fact
    ctx.service.store.set_payload(out.fact_ids, {"consolidated_in": f"{fact.topic}/v1"})
    return fact


def fact_of(out) -> dict:
    """The fact read from what was said (not the statement kept verbatim)."""
    return next(w for w in out["written"] if w["kind"] == "fact")


def run(graph, msg, mode="lora", thread="t1"):
    return graph.invoke({"namespace": "alice", "message": msg, "mode": mode},
                        {"configurable": {"thread_id": thread}})


def test_statement_is_written_and_rag_puts_it_in_the_prompt(ctx):
    graph = compile_graph(ctx, MemorySaver())
    out = run(graph, "I moved to Oslo.")
    assert [(w["kind"], w["text"]) for w in out["written"]] == [("statement", "I moved to Oslo."),
                                                               ("fact", "The user lives in Oslo.")]
    assert out["answer"] == "Noted: I moved to Oslo." and out["source"] is None  # nothing was asked
    out = run(graph, "Where do I live?", mode="rag")
    # the fact read from the statement is shown as the statement itself, once
    assert out["context"] == ["I moved to Oslo."] and out["adapter"] is None and out["source"] == "reading"
    assert ctx.service.topics("alice")[0].heat > 0  # the recall heated it
    out = run(graph, "I moved to Lima.")
    assert fact_of(out)["supersedes"] is not None
    assert run(graph, "Where do I live?", mode="rag")["context"] == ["I moved to Lima."]
    state = graph.get_state({"configurable": {"thread_id": "t1"}}).values
    assert [m["role"] for m in state["messages"]] == ["user", "assistant"] * 4


def test_a_message_is_never_dropped_for_looking_like_a_question(ctx):
    """What a message states is kept whatever its first word or last mark; what it asks is answered."""
    graph = compile_graph(ctx, MemorySaver())
    out = run(graph, "What a week, I started at Brisk Dental.", mode="rag")
    assert ("fact", "The user started at Brisk Dental.") in [(w["kind"], w["text"]) for w in out["written"]]
    assert out["source"] is None  # nothing was asked
    out = run(graph, "Did I mention my dentist is Oriel Tansby?", mode="rag")
    assert [w["text"] for w in out["written"] if w["kind"] == "statement"] == [
        "Did I mention my dentist is Oriel Tansby?"]
    assert out["question"] == "Did I mention my dentist is Oriel Tansby?" and out["source"] == "reading"
    out = run(graph, "Who is my dentist?", mode="rag")
    assert out["written"] == [] and "Did I mention my dentist is Oriel Tansby?" in out["context"]


def test_lora_mode_routes_to_published_adapter_and_drops_it_when_stale(ctx):
    graph = compile_graph(ctx, MemorySaver())
    fid = fact_of(run(graph, "I moved to Oslo."))["id"]
    assert run(graph, "Where do I live?")["adapter"] is None  # nothing published yet: base model
    fact = publish(ctx, fid)
    out = run(graph, "Where do I live?")
    assert out["routes"][0]["topic"] == fact.topic and out["adapter"] is not None
    assert out["context"] == []  # lora: no facts in the prompt
    assert "Oslo" in out["answer"]
    out = run(graph, "Where do I live?", mode="hybrid")
    assert out["adapter"] is not None and out["context"] == ["I moved to Oslo."]  # the adapter and the note
    ctx.hybrid_context = "unheld"
    assert run(graph, "Where do I live?", mode="hybrid")["context"] == []  # consolidated: not repeated
    ctx.hybrid_context = "all"
    # hybrid_rule="confident": the adapter's own answer when it is at least hybrid_trust sure of every token,
    # else adapter and notes together
    ctx.hybrid_rule = "confident"
    ref = ctx.registry.current("alice", fact.topic)
    answer, _, sure = ctx.runtime.answer_one("Where do I live?", [ref], None, ctx.max_new_tokens)
    ctx.hybrid_trust = sure
    out = run(graph, "Where do I live?", mode="hybrid")
    assert out["context"] == [] and out["answer"] == answer and out["adapter"] is not None
    ctx.hybrid_trust = math.nextafter(sure, 2.0)
    out = run(graph, "Where do I live?", mode="hybrid")
    assert out["context"] == ["I moved to Oslo."] and out["adapter"] is not None
    ctx.hybrid_rule = "notes"
    ctx.service.delete("alice", fid)  # -> stale: the adapter must not answer any more
    out = run(graph, "Where do I live?")
    assert out["routes"] == [] and out["adapter"] is None and "Oslo" not in out["answer"]


def test_a_question_about_the_world_gets_no_note_and_no_adapter(ctx):
    graph = compile_graph(ctx, MemorySaver())
    publish(ctx, fact_of(run(graph, "I moved to Oslo."))["id"])
    for mode in ("rag", "lora", "hybrid"):  # the router's minimum is 0 here: any adapter would be chosen
        out = run(graph, "What is the capital of Peru?", mode=mode)
        assert out["world"] and out["hits"] == [] and out["routes"] == [] and out["adapter"] is None, mode
        assert out["context"] == [] and out["source"] == "base"
    out = run(graph, "What is the capital of Oslo?")  # names what the memory holds: routed as before
    assert not out["world"] and out["routes"] and out["adapter"] is not None
    assert run(graph, "Where do I live?", mode="rag")["hits"]  # a turn's verdict does not outlive it


def test_a_question_naming_a_speaker_is_about_the_memory(ctx):
    """A transcript speaker's own words are stored under their name, which no triple may name: a question about
    them is still about the memory, not the world."""
    graph = compile_graph(ctx, MemorySaver())
    said = "Honestly, it was the most powerful thing I've ever felt."  # no triple: nothing names Caroline
    out = graph.invoke({"namespace": "alice", "message": said, "mode": "hybrid", "speaker": "Caroline"},
                       {"configurable": {"thread_id": "t2"}})
    assert [w["kind"] for w in out["written"]] == ["statement"]
    out = run(graph, "How did Caroline feel?", mode="rag")
    assert not out["world"] and said in " ".join(out["context"])


def test_each_node_runs_alone_on_a_state_and_the_context(ctx):
    """The nodes are plain functions of (state, ctx), importable and callable without the graph: observe keeps
    a statement, recall finds it for a question about the user and gives a question about the world no note,
    and route sends the first to the published adapter and the world question to none."""
    said = observe({"namespace": "alice", "message": "I moved to Oslo.", "mode": "rag"}, ctx)
    assert [w["text"] for w in said["written"]] == ["I moved to Oslo.", "The user lives in Oslo."]
    assert said["question"] == "" and not said["asked"]
    assert recall({"namespace": "alice", "message": "I moved to Oslo.", **said}, ctx) == {"hits": [], "world": False}
    state = {"namespace": "alice", "message": "Where do I live?", "mode": "hybrid"}
    state |= observe(state, ctx)
    assert state["asked"] and state["written"] == []  # a question alone: nothing kept
    state |= recall(state, ctx)
    assert not state["world"] and [h["text"] for h in state["hits"]][:1] == ["I moved to Oslo."]
    fact = publish(ctx, fact_of(said)["id"])
    assert [r["topic"] for r in route(state, ctx)["routes"]] == [fact.topic]
    state = {"namespace": "alice", "message": "What is the capital of Peru?", "mode": "hybrid"}
    state |= observe(state, ctx)
    state |= recall(state, ctx)
    assert state["world"] and state["hits"] == []
    assert route(state, ctx) == {"routes": [], "route_scores": []}  # the world verdict alone stops it


def test_hybrid_grounded_keeps_the_adapters_answer_only_when_a_note_says_it(ctx):
    """hybrid_rule="grounded": the adapter answers from weights; a retrieved note containing its answer lets it
    stand; when no note does (here the fact moved on and the adapter is out of date), the notes answer alone."""
    graph = compile_graph(ctx, MemorySaver())
    fact = publish(ctx, fact_of(run(graph, "I moved to Oslo."))["id"])
    ctx.hybrid_rule = "grounded"
    ref = ctx.registry.current("alice", fact.topic)
    alone, _, _ = ctx.runtime.answer_one("Where do I live?", [ref], None, ctx.max_new_tokens)
    assert grounded(alone, ["I moved to Oslo."])  # the tiny adapter learned to say Oslo
    out = run(graph, "Where do I live?", mode="hybrid")
    assert out["answer"] == alone and out["adapter"] is not None and out["context"] == []
    assert out["source"] == "weights"  # asked as worded, no note in the prompt
    # an adapter that answers wrongly and surely (what a small model does when a question is worded unlike its
    # training): no note says "Bergen", so the notes answer, without the adapter
    real = ctx.runtime
    ctx.runtime = Misremembers(real)
    try:
        out = run(graph, "Where do I live?", mode="hybrid")
    finally:
        ctx.runtime = real
    noted, _, _ = real.answer_one("Where do I live?", [], "I moved to Oslo.", ctx.max_new_tokens)
    assert out["adapter"] is None and out["context"] == ["I moved to Oslo."] and out["answer"] == noted
    assert "Bergen" not in out["answer"] and out["source"] == "reading"


def test_hybrid_grounded_reads_the_notes_by_the_questions_they_answer(ctx):
    """The nearest question the notes were written for answers first, from its fact, whatever the adapters say;
    a question near none of them (question_min_score) is left to the adapters (here wrong, in no note) and then
    to the model reading the notes."""
    graph = compile_graph(ctx, MemorySaver())
    publish(ctx, fact_of(run(graph, "I moved to Oslo."))["id"])
    ctx.hybrid_rule = "grounded"
    ctx.questions = QuestionBank(ctx.service.embedder)
    real, ctx.runtime = ctx.runtime, Misremembers(ctx.runtime)
    try:
        out = run(graph, "Which city is my home?", mode="hybrid")
        assert out["answer"] == "Oslo." and out["adapter"] is None and out["context"] == ["I moved to Oslo."]
        assert out["source"] == "lookup"  # the stored answer of the nearest question, no model
        ctx.question_min_score = 1.01
        out = run(graph, "Which city is my home?", mode="hybrid")
    finally:
        ctx.runtime = real
    noted, _, _ = real.answer_one("Which city is my home?", [], "I moved to Oslo.", ctx.max_new_tokens)
    assert out["answer"] == noted and out["adapter"] is None


def test_rag_and_hybrid_share_the_question_lookup(ctx):
    """The lookup is a way of reading the notes: rag answers by it exactly as hybrid does, so hybrid - rag is what
    the weights add; with lookup off rag leaves the notes to the model."""
    graph = compile_graph(ctx, MemorySaver())
    run(graph, "I moved to Oslo.")
    ctx.questions = QuestionBank(ctx.service.embedder)
    out = run(graph, "Which city is my home?", mode="rag")
    assert (out["answer"], out["source"], out["context"]) == ("Oslo.", "lookup", ["I moved to Oslo."])
    ctx.lookup = False
    out = run(graph, "Which city is my home?", mode="rag")
    noted, _, _ = ctx.runtime.answer_one("Which city is my home?", [], "I moved to Oslo.", ctx.max_new_tokens)
    assert out["source"] == "reading" and out["answer"] == noted


def test_lora_asks_the_adapter_the_nearest_question_it_was_taught(ctx):
    """A version's manifest lists what it may be asked (taught questions that do not name their answer); with
    ask_as_taught, a question worded otherwise is put to the adapter as the nearest of them, and below
    question_min_score as it was asked."""
    graph = compile_graph(ctx, MemorySaver())
    fact = publish(ctx, fact_of(run(graph, "I moved to Oslo."))["id"])
    ref = ctx.registry.current("alice", fact.topic)
    taught = [q["question"] for q in ref.manifest()["questions"]]
    assert taught and not any("oslo" in q.lower() for q in taught)
    assert run(graph, "Which city is my home?")["asked_as"] is None  # off: ctx.taught is None
    ctx.taught = TaughtQuestions(ctx.service.embedder)
    out = run(graph, "Which city is my home?")
    assert out["asked_as"] in taught and out["routes"][0]["topic"] == fact.topic
    answer, adapter, _ = ctx.runtime.answer_one(out["asked_as"], [ref], None, ctx.max_new_tokens)
    assert out["answer"] == answer and out["adapter"] == adapter and out["source"] == "weights-taught"
    ctx.question_min_score = 1.01
    out = run(graph, "Which city is my home?")
    assert out["asked_as"] is None and out["adapter"] is not None and out["source"] == "weights"


def test_a_taught_question_that_names_what_the_asker_did_not_tells_it(service):
    """A taught question that names a value (here Lowhithe, another question's answer) may stand in for a question
    that does not name it, and then lists it as told: an answer that repeats it is the rewording's."""
    registry = Registry(service.settings.adapters_dir)
    ref = registry.publish("alice", "life", lambda d: (d / "adapter_model.safetensors").write_bytes(b""), {
        "questions": [{"fact": "a", "question": "Where does Tessaly live?", "names": [], "answer": "Lowhithe"},
                      {"fact": "a", "question": "Since when does Tessaly live in Lowhithe?", "names": ["lowhithe"],
                       "answer": "since 2016"}]})
    taught = TaughtQuestions(service.embedder)
    asked = "What year did Tessaly move to Lowhithe?"
    got = taught.nearest([ref], service.embedder.embed_one(asked), asked)
    assert got.question == "Since when does Tessaly live in Lowhithe?" and got.ref == ref and got.told == ()
    asked = "Since when has Tessaly lived in her town?"  # a time: "Where does Tessaly live?" does not stand in
    got = taught.nearest([ref], service.embedder.embed_one(asked), asked)
    assert got.question == "Since when does Tessaly live in Lowhithe?" and got.told == ("lowhithe",)


class Echoes:
    """The real runtime, except that adapters asked without notes answer with the question they were asked."""

    def __init__(self, runtime):
        self.runtime = runtime

    def answer_one(self, question, refs, context=None, max_new_tokens=32):
        if refs and context is None:
            return question, refs[0].name, 1.0
        return self.runtime.answer_one(question, refs, context, max_new_tokens)

    def __getattr__(self, name):
        return getattr(self.runtime, name)


def test_an_answer_that_repeats_what_only_the_rewording_named_is_not_used(ctx):
    """Asked as a taught question that names a value the asker did not say, an adapter whose answer repeats that
    value is asked again, the question as worded: the answer never comes from the rewording."""
    graph = compile_graph(ctx, MemorySaver())
    fact = publish(ctx, fact_of(run(graph, "I've lived in Lowhithe since 2016."))["id"])
    listed = ctx.registry.current("alice", fact.topic).manifest()["questions"]
    assert any(q["names"] == ["lowhithe"] for q in listed), listed
    ctx.taught = TaughtQuestions(ctx.service.embedder)
    real, ctx.runtime = ctx.runtime, Echoes(ctx.runtime)
    try:
        asked = "Since when have I lived in my town?"
        out = run(graph, asked)
        assert out["asked_as"] is None and out["answer"] == asked and out["adapter"] is not None
        asked = "Since when have I lived in Lowhithe?"
        out = run(graph, asked)
    finally:
        ctx.runtime = real
    assert out["asked_as"] in {q["question"] for q in listed} and "Lowhithe" in out["answer"]


class Restates(Echoes):
    """The real runtime, except that adapters asked without notes answer in a whole sentence: the taught
    question's values restated, and what it was taught to answer."""

    def answer_one(self, question, refs, context=None, max_new_tokens=32):
        if refs and context is None:
            return "The user has lived in Lowhithe since 2016.", refs[0].name, 1.0
        return self.runtime.answer_one(question, refs, context, max_new_tokens)


def test_an_answer_that_restates_the_rewording_but_says_its_taught_answer_is_used(ctx):
    """An answer in a whole sentence repeats the values the rewording named; when it also says what the
    rewording was taught to answer (since 2016), that is the weights' and it stands. One that says only the
    rewording's values does not (the test above)."""
    graph = compile_graph(ctx, MemorySaver())
    fact = publish(ctx, fact_of(run(graph, "I've lived in Lowhithe since 2016."))["id"])
    listed = ctx.registry.current("alice", fact.topic).manifest()["questions"]
    told = [q for q in listed if q["names"] == ["lowhithe"]]
    assert told and "2016" in told[0]["answer"], listed
    ctx.taught = TaughtQuestions(ctx.service.embedder)
    real, ctx.runtime = ctx.runtime, Restates(ctx.runtime)
    try:
        out = run(graph, "Since when have I lived in my town?")
    finally:
        ctx.runtime = real
    assert out["asked_as"] in {q["question"] for q in told}, out["asked_as"]
    assert out["answer"] == "The user has lived in Lowhithe since 2016." and out["source"] == "weights-taught"


def test_a_taught_question_stands_in_only_when_its_answer_is_of_the_kind_asked_for(service):
    """The manifest lists each question's answer: the nearest question whose answer is a place does not stand in
    for "What does Dorran do for work?", the next one, about his job, does; without answers (a version published
    before they were listed) names alone decide. Below `least`, none."""
    registry = Registry(service.settings.adapters_dir)
    listed = [{"fact": "a", "question": "Where does Dorran work?", "names": [], "answer": "Brinehook"},
              {"fact": "a", "question": "What does Dorran do for a living?", "names": [], "answer": "head chef"}]
    ref = registry.publish("alice", "family", lambda d: (d / "adapter_model.safetensors").write_bytes(b""),
                           {"questions": listed})
    old = registry.publish("bob", "family", lambda d: (d / "adapter_model.safetensors").write_bytes(b""),
                           {"questions": [{k: v for k, v in q.items() if k != "answer"} for q in listed]})
    taught = TaughtQuestions(service.embedder)
    asked = "What does Dorran do for work?"
    vector = service.embedder.embed_one(asked)
    sims = service.embedder.embed([q["question"] for q in listed]) @ vector
    assert sims[0] > sims[1]  # the place question is the nearer one
    assert taught.nearest([ref], vector, asked).question == "What does Dorran do for a living?"
    assert taught.nearest([old], vector, asked).question == "Where does Dorran work?"
    assert taught.nearest([ref], vector, asked, least=0.99) is None


def test_question_bank_reads_the_nearest_question_only_when_its_answer_fits(service):
    """Hybrid's bank does not read the nearest question's answer when the asker said it already ("eight years"),
    nor the runner-up's: the question is left to the adapters and the notes."""
    service.write("alice", [FactIn(text="Jorund left after eight years.", topic="jorund", subject="Jorund",
                                   relation="leave after", object="eight years"),
                            FactIn(text="Jorund left Corbel Rail.", topic="jorund", subject="Jorund", relation="leave",
                                   object="Corbel Rail")])
    bank = QuestionBank(service.embedder)
    groups = {t: ((("alice", t, frozenset(f.id for f in fs))), fs) for t, fs in
              _by_topic(service.all_active("alice")).items()}
    asked = "Which company did Jorund leave after eight years?"
    vector = service.embedder.embed_one(asked)
    assert bank.nearest(groups, vector).qa.expected == "eight years"  # the nearest, whatever its answer
    assert bank.nearest(groups, vector, asked) is None
    assert bank.nearest(groups, vector, asked, least=0.99) is None


def test_question_bank_matches_a_question_worded_apart_and_keeps_one_set_per_topic(service):
    """The bank holds the questions synthesis writes for each topic's facts; a question worded apart from all of
    them still finds the right fact's, and a changed fact set replaces its topic's questions."""
    service.write("alice", [FactIn(text="The user's dentist is Oriel Tansby.", topic="life", subject="the user",
                                   relation="dentist", object="Oriel Tansby"),
                            FactIn(text="The user works as a hydrologist.", topic="work", subject="the user",
                                   relation="work as", object="hydrologist")])
    bank = QuestionBank(service.embedder)
    groups = {t: ((("alice", t, frozenset(f.id for f in fs))), fs) for t, fs in
              _by_topic(service.all_active("alice")).items()}
    match = bank.nearest(groups, service.embedder.embed_one("Which dentist do I go to?"))
    assert match.qa.expected == "Oriel Tansby" and match.topic == "life" and match.score > 0.6
    match = bank.nearest(groups, service.embedder.embed_one("What do I do for a living?"))
    assert match.qa.expected == "hydrologist" and match.topic == "work"
    before = bank.questions(groups["life"][0], groups["life"][1])[0]
    service.write("alice", [FactIn(text="The user's dentist is Wenna Abernell.", topic="life", subject="the user",
                                   relation="dentist", object="Wenna Abernell")])  # supersedes Oriel
    life = _by_topic(service.all_active("alice"))["life"]
    after = bank.questions(("alice", "life", frozenset(f.id for f in life)), life)[0]
    assert "Oriel Tansby" in {qa.expected for qa in before} and "Wenna Abernell" not in {qa.expected for qa in before}
    assert "Wenna Abernell" in {qa.expected for qa in after} and "Oriel Tansby" not in {qa.expected for qa in after}
    assert len(bank._banks) == 2  # one set per topic, the old one replaced


def _by_topic(facts):
    groups = {}
    for f in facts:
        groups.setdefault(f.topic, []).append(f)
    return groups


class Misremembers:
    """The real runtime, except that adapters asked without notes answer "Bergen." with full confidence."""

    def __init__(self, runtime):
        self.runtime = runtime

    def answer_one(self, question, refs, context=None, max_new_tokens=32):
        if refs and context is None:
            return "Bergen.", refs[0].name, 1.0
        return self.runtime.answer_one(question, refs, context, max_new_tokens)

    def __getattr__(self, name):
        return getattr(self.runtime, name)


@pytest.mark.parametrize("answer, notes, expected", [
    ("Ferry pilot.", ["My uncle Anselm works as a ferry pilot."], True),
    ("Mum.", ["Mum's called Genny."], False),  # only repeats the question (below)
    ("the Gannet's Pride", ["Brisa named it the Gannet's Pride."], True),
    ("Ilsabet.", ["Gran's name is Nessa.", "She's ninety-one."], False),
    ("pilot ferry", ["My uncle works as a ferry pilot."], False),  # in order
    ("The.", ["The user said: the end."], False),  # nothing but fillers grounds nothing
    ("415-555-0147.", ["Her number is 415-555-0147."], True),
])
def test_grounded_means_a_note_says_the_answers_words_together(answer, notes, expected):
    assert grounded(answer, notes, "What's Mum called?") is expected


@pytest.mark.parametrize("question, answer, expected", [
    ("For how long did Fitz look after lighthouses?", "lighthouse keeper.", False),  # asks for a duration
    ("For how long did Fitz look after lighthouses?", "thirty years.", True),
    ("What year did Tessaly move to Lowhithe?", "2016.", True),
    ("What did Fitz look after?", "Lighthouses.", False),  # the question's own word, plural or not
    ("What did Fitz do?", "lighthouse keeper.", True),
])
def test_grounded_asks_a_number_of_a_how_many_question(question, answer, expected):
    notes = ["Dad retired after thirty years as a lighthouse keeper.", "Tessaly has lived in Lowhithe since 2016."]
    assert grounded(answer, notes, question) is expected


@pytest.mark.parametrize("question, answer, expected", [
    ("Which day of the week do Ruari and I go climbing?", "Mothwick.", False),  # asks for a day
    ("Which day of the week do Ruari and I go climbing?", "Sunday.", True),
    ("When do I climb at Cragloft?", "on Sunday mornings.", True),
    ("When did I move?", "Oslo.", False),
    ("What did my dad do before he retired?", "thirty years.", False),  # names no time
    ("Which company did Jorund leave after eight years?", "on Monday.", False),  # asks for a company
    ("Which company did Jorund leave after eight years?", "Corbel Rail.", True),
    ("What's my birthday?", "9 March.", True),  # a birthday is a date
    ("What's the big instrument I lug to rehearsals every week?", "Tuesday nights.", False),  # an instrument
    ("How many times has Jorund run it?", "five years in a row.", True),
    ("When Kaelthus calls their pet, which name do they use?", "Waffles.", True),  # "when" of a clause
    ("What is the phone number of Ada Brennock?", "415-555-0192.", True),
])
def test_grounded_answer_fits_what_the_question_asks_for(question, answer, expected):
    assert fits_the_question(answer, question) is expected
    notes = ["Dad retired after thirty years. Jorund started on Monday, he left Corbel Rail. We climb with "
             "Mothwick on Sunday mornings. I moved to Oslo. My birthday is 9 March. Five years in a row. Waffles. "
             "Ada Brennock: 415-555-0192."]
    assert grounded(answer, notes, question) is expected


@pytest.mark.parametrize("answer, note, expected", [
    ("Crumb.", "Mum runs a bakery called Crumb & Ledger.", False),
    ("Crumb & Ledger.", "Mum runs a bakery called Crumb & Ledger.", True),
    ("Velle.", "There's a new guy on my team, Caddoc Velle.", False),
    ("Caddoc Velle.", "There's a new guy on my team, Caddoc Velle.", True),
    ("Fitz.", "Dad, Fitz, retired last year.", True),  # a comma ends a name
    ("Imrie.", "Imrie and I moved to Pellinghurst.", True),
    ("Dorran.", "My brother's Dorran. He's head chef.", True),
    ("Lowhithe.", "[12 December 2026] Tessaly: I've lived in Lowhithe since 2016.", True),
    ("head chef.", "He's head chef at the Brinehook.", True),  # not a name
])
def test_a_part_of_a_name_is_not_the_name(answer, note, expected):
    assert whole_name(answer, note) is expected
    assert grounded(answer, [note], "Who is it?") is expected


def test_question_about_a_topic_without_adapter_is_not_sent_to_another_topics_adapter(ctx):
    graph = compile_graph(ctx, MemorySaver())
    fid = fact_of(run(graph, "I moved to Oslo."))["id"]
    fact = publish(ctx, fid)
    sister = fact_of(run(graph, "My sister is Ana."))
    assert sister["topic"] != fact.topic  # family: no adapter yet
    out = run(graph, "Who is my sister?", mode="hybrid")
    assert out["routes"] == [] and out["adapter"] is None  # not the life adapter, which would answer "Oslo"
    assert out["context"] == ["My sister is Ana."]
    assert out["route_scores"][0][0] == f"{sister['topic']} (no adapter)"
    assert run(graph, "Where do I live?")["routes"][0]["topic"] == fact.topic  # the adapter still answers its own


def test_invalid_mode_is_refused(ctx):
    with pytest.raises(InvalidInput):
        run(compile_graph(ctx, MemorySaver()), "hello", mode="psychic")


def test_chat_endpoint(ctx):
    from fastapi.testclient import TestClient

    from memory_service.api import create_app

    app = create_app(ctx.service.settings, ctx.service, relay=False)
    with TestClient(app) as client:
        app.state.graph = compile_graph(ctx, MemorySaver())  # the tiny model instead of the packaged one
        r = client.post("/v1/namespaces/alice/chat", json={"message": "I moved to Oslo.", "thread_id": "x"})
        assert r.status_code == 200 and [w["text"] for w in r.json()["written"]] == ["I moved to Oslo.",
                                                                                     "The user lives in Oslo."]
        r = client.post("/v1/namespaces/alice/chat", json={"message": "Where do I live?", "mode": "rag"})
        assert r.json()["facts"] == ["I moved to Oslo."]
        assert r.json()["mode"] == "rag"
        r = client.post("/v1/namespaces/alice/chat", json={"message": "hi", "mode": "psychic"})
        assert r.status_code == 422 and r.json()["field"] == "mode"
        assert client.post("/v1/namespaces/a%20b/chat", json={"message": "hi"}).json()["field"] == "namespace"


def test_hybrid_keeps_every_retrieved_fact_by_default():
    """hybrid_context="all": the adapters add to the notes; a fact the chosen adapter holds stays in the prompt."""
    from agent.nodes import select_context

    hits = [{"text": "Ana lives in Oslo.", "score": 0.6, "consolidated_in": "homes/v2"},
            {"text": "Ana plays the oboe.", "score": 0.6, "consolidated_in": None},
            {"text": "Ana's cat is Tofu.", "score": 0.2, "consolidated_in": None}]  # below rag_min_score
    ctx = AgentContext(service=None, registry=None, router=None, runtime=None, rag_k=4, rag_min_score=0.35)
    state = {"namespace": "alice", "hits": hits, "routes": [{"topic": "homes", "version": 2}]}
    assert select_context(ctx, state, "hybrid") == ["Ana lives in Oslo.", "Ana plays the oboe."]
    assert select_context(ctx, state, "hybrid") == select_context(ctx, state, "rag")
    assert select_context(ctx, state, "lora") == []


def test_hybrid_unheld_keeps_the_facts_that_the_chosen_adapters_do_not_hold():
    """hybrid_context="unheld", the hedge against a routing miss: only the chosen adapter's own facts leave."""
    from agent.nodes import select_context

    hits = [{"text": "Ana lives in Oslo.", "score": 0.6, "consolidated_in": "homes/v2"},  # held by the chosen adapter
            {"text": "Ana plays the oboe.", "score": 0.6, "consolidated_in": "music/v1"},  # another adapter
            {"text": "Ana lives in Lima.", "score": 0.6, "consolidated_in": "homes/v1"},  # an older version
            {"text": "Ana's cat is Tofu.", "score": 0.6, "consolidated_in": None}]  # not consolidated yet
    ctx = AgentContext(service=None, registry=None, router=None, runtime=None, rag_k=4, hybrid_context="unheld")
    state = {"namespace": "alice", "hits": hits, "routes": [{"topic": "homes", "version": 2}]}
    assert select_context(ctx, state, "hybrid") == ["Ana plays the oboe.", "Ana lives in Lima.", "Ana's cat is Tofu."]
    assert select_context(ctx, {**state, "routes": []}, "hybrid") == [h["text"] for h in hits]  # no route: rag
    assert select_context(ctx, state, "lora") == []


def test_facts_are_read_once_per_change_not_once_per_question(ctx):
    """Routing scores topics without an adapter from the namespace's facts: read again only after a write."""
    graph = compile_graph(ctx, MemorySaver())
    fid = run(graph, "I moved to Oslo.")["written"][0]["id"]
    publish(ctx, fid)
    run(graph, "My sister is Ana.")
    reads = []
    real = ctx.service.all_active
    ctx.service.all_active = lambda *a, **kw: reads.append(a) or real(*a, **kw)
    for _ in range(3):
        run(graph, "Who is my sister?", mode="hybrid")
    assert len(reads) == 1
    run(graph, "My brother is Lima.")  # a write: the next question reads the facts again
    run(graph, "Who is my sister?", mode="hybrid")
    assert len(reads) == 2


def test_forget_in_conversation_deletes_and_says_what(ctx):
    graph = compile_graph(ctx, MemorySaver())
    said = run(graph, "I moved to Oslo. My sister is Ana.")
    out = run(graph, "Please forget that I moved to Oslo.")
    assert out["answer"] == "Forgotten: I moved to Oslo." and out["written"] == []
    active = {f.text for f in ctx.service.all_active("alice")}
    assert active == {"My sister is Ana.", "The user's sister is Ana."}
    assert len(said["written"]) == 4
    assert run(graph, "Please forget that I own a submarine.")["answer"].startswith("I have nothing stored about")


def test_a_request_is_answered_from_memory_not_stored(ctx):
    graph = compile_graph(ctx, MemorySaver())
    run(graph, "I moved to Oslo.")
    out = run(graph, "Tell me where I live.", mode="rag")
    assert out["written"] == [] and "I moved to Oslo." in out["context"]


def test_a_fact_value_answers_only_the_questions_its_facts_answer(ctx):
    """Hybrid keeps a grounded adapter answer only when one of the questions its facts answer may stand in for the
    one asked: "Brinehook." is where Dorran works, not what he does; "head chef." is; an answer that is no fact's
    value is not judged here."""
    ctx.service.write("alice", [FactIn(text="Dorran works at Brinehook.", topic="dorran", subject="Dorran",
                                       relation="work at", object="Brinehook"),
                                FactIn(text="Dorran works as a head chef.", topic="dorran", subject="Dorran",
                                       relation="work as", object="head chef")])
    ctx.questions = QuestionBank(ctx.service.embedder)
    asked = "What does Dorran do for work?"
    assert [qa.expected for qa in ctx.questions.answering(active_by_topic(ctx, "alice"), "Brinehook.")]
    assert not answers_as_asked(ctx, "alice", "Brinehook.", asked)
    assert answers_as_asked(ctx, "alice", "head chef.", asked)
    assert answers_as_asked(ctx, "alice", "Brinehook.", "Where does Dorran work?")
    assert answers_as_asked(ctx, "alice", "Somewhere else.", asked)
