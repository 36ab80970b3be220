"""Messages through the service and POST /v1/namespaces/{ns}/messages, on the real stores and Redis: every
statement kept verbatim and attributed, facts linked to it, updates and deletions carried to both."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from fastapi.testclient import TestClient

from agent.nodes import as_said
from memory_service.api import create_app


@pytest.fixture
def client(service):
    with TestClient(create_app(service.settings, service), raise_server_exceptions=False) as c:
        yield c


def test_every_statement_is_kept_with_its_facts_linked(service):
    said = datetime(2023, 5, 8, 13, 56, tzinfo=timezone.utc)
    out = service.write_message("ana", "Hi! My uncle Tavish works as a ferry pilot. I don't have a car. "
                                       "Where do I live?", speaker="user", said_at=said)
    assert [s.text for s in out.skipped] == ["Hi!"] and out.questions == ["Where do I live?"]
    statements = [s for s in out.stored if s.kind == "statement"]
    assert [s.text for s in statements] == ["My uncle Tavish works as a ferry pilot.", "I don't have a car."]
    assert statements[1].why == "negation"
    facts = [s for s in out.stored if s.kind == "fact"]
    assert {(f.subject, f.relation, f.object) for f in facts} == {("the user", "uncle", "Tavish"),
                                                                   ("Tavish", "work as", "ferry pilot")}
    assert {f.derived_from for f in facts} == {statements[0].id}
    stored = service.get("ana", statements[0].id)
    assert (stored.speaker, stored.said_at, stored.subject) == ("user", said, None)
    assert stored.attributed == "My uncle Tavish works as a ferry pilot."  # the user's own words, as said
    fact = service.get("ana", facts[0].id)
    assert fact.derived_from == statements[0].id and fact.topic == stored.topic == "family"


def test_a_named_speaker_is_attributed(service):
    said = datetime(2023, 1, 20, 16, 4, tzinfo=timezone.utc)
    out = service.write_message("locomo", "I lost my job as a banker yesterday.", speaker="Jon", said_at=said)
    statement = service.get("locomo", out.stored[0].id)
    assert statement.speaker == "Jon"
    assert statement.attributed == "[20 January 2023] Jon: I lost my job as a banker yesterday."
    undated = service.write_message("locomo", "I love dancing.", speaker="Gina")
    assert service.get("locomo", undated.stored[0].id).said_at is not None  # now, when not given
    assert any(s.subject == "Jon" for s in out.stored if s.kind == "fact")


def test_a_statement_is_found_and_shown_with_the_words_it_leans_on(service):
    out = service.write_message("odile", "My brother's Dorran. He's head chef at a seafood place called the "
                                         "Brinehook. I play the cello in the Quenmere Sinfonia.")
    chef = next(s for s in out.stored if s.text.startswith("He's head chef"))
    stored = service.get("odile", chef.id)
    assert stored.context == "My brother's Dorran."
    assert stored.attributed == "My brother's Dorran. He's head chef at a seafood place called the Brinehook."
    # found: itself, or through the facts read from it with "he" read as Dorran
    shown = as_said(service, "odile", service.recall("odile", "What does Dorran do for work?", limit=5))
    assert shown[0][0].id == chef.id
    # a transcript statement is searched with its speaker's name: "I" is Tessaly
    said = service.write_message("odile", "Busy. I've been head archivist at Hobsfold Library since the spring.",
                                 speaker="Tessaly")
    archivist = next(s for s in said.stored if s.text.startswith("I've been head archivist"))
    hits = service.recall("odile", "What's Tessaly's role at the library?", limit=10)
    assert archivist.id in [f.id for f, _ in as_said(service, "odile", hits)[:2]]


def test_statements_go_to_the_speakers_areas_not_a_topic_each(service):
    """A statement joins the area its facts name, else its message's area, else the speaker's home topic:
    a dialogue becomes a few topics per speaker (split into shards by the relay when they grow), not one
    one-fact topic per sentence."""
    said = [service.write_message("od", text) for text in (
        "Every winter we ski in Haldor Valley.", "Ugh, long day at the depot again.",
        "My sister Brisa lives in Kellmoor. She grows giant pumpkins.", "I work as a ferry pilot.")]
    topics = [[s.topic for s in out.stored] for out in said]
    assert set(topics[0]) == set(topics[1]) == {"life"}
    assert set(topics[2]) == {"family"}  # "She grows giant pumpkins." follows its message, not a new topic
    assert set(topics[3]) == {"work"}
    caroline = service.write_message("od", "I went to a support group yesterday. My mentor is Ilsa.",
                                     speaker="Caroline")
    assert [s.topic for s in caroline.stored if s.kind == "statement"] == ["caroline-life", "caroline-work"]
    assert {t.topic for t in service.topics("od")} == {"life", "family", "work", "caroline-life", "caroline-work"}


def test_a_move_supersedes_the_old_home_and_the_words_that_said_it(service):
    first = service.write_message("bo", "I live in Porvoo.")
    second = service.write_message("bo", "I moved to Arlow Point last week.")
    old_statement, old_fact = first.stored[0], first.stored[1]
    new_fact = next(s for s in second.stored if s.kind == "fact")
    assert new_fact.supersedes == old_fact.id and new_fact.qualifier == "last week"
    assert service.get("bo", old_fact.id).status == "superseded"
    assert service.get("bo", old_statement.id).status == "superseded"
    hits = service.recall("bo", "Where do I live?", limit=5)
    assert "Porvoo" not in " ".join(h.fact.text for h in hits)


def test_deleting_a_fact_takes_its_statement_and_deleting_a_statement_takes_its_facts(service):
    out = service.write_message("cy", "I drive a red Halvik coupe. My sister Ana lives in Lund.")
    drive_statement, drive_fact = out.stored[0], next(s for s in out.stored if s.relation == "drive")
    service.delete("cy", drive_fact.id)
    assert service.get("cy", drive_statement.id).status == "deleted"
    sister_statement = out.stored[1]
    service.delete("cy", sister_statement.id)
    assert all(service.get("cy", s.id).status == "deleted" for s in out.stored if s.derived_from == sister_statement.id)


def test_api_messages_endpoint(client):
    r = client.post("/v1/namespaces/dee/messages", json={"text": "My dentist Ada Brennock can be reached at "
                                                                 "415-555-0192. Thanks!", "speaker": "user"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["skipped"] == [{"text": "Thanks!", "reason": "small-talk"}]
    assert {(s["relation"], s["object"]) for s in body["stored"] if s["kind"] == "fact"} == {
        ("dentist", "Ada Brennock"), ("phone number", "415-555-0192")}
    listed = client.get("/v1/namespaces/dee/facts").json()["facts"]
    assert len(listed) == 3


def test_you_in_a_transcript_is_whom_the_speaker_talks_to(client):
    r = client.post("/v1/namespaces/dee/messages", json={
        "text": "I still can't believe you left Corbel Rail. Your sister Brisa is lovely.", "speaker": "Tessaly",
        "addressee": "Jorund"})
    assert r.status_code == 201, r.text
    facts = {(s["subject"], s["relation"], s["object"]) for s in r.json()["stored"] if s["kind"] == "fact"}
    assert facts == {("Jorund", "leave", "Corbel Rail"), ("Jorund", "sister", "Brisa")}
    # what is said of Jorund goes to Jorund's topics, not to the speaker's
    assert {s["topic"] for s in r.json()["stored"]} == {"jorund-life", "jorund-family"}
    # without an addressee "you" is nobody the service knows: the statements are kept, no fact is read
    r = client.post("/v1/namespaces/dee/messages", json={"text": "Your sister Brisa is lovely.", "speaker": "Tessaly"})
    assert [s["kind"] for s in r.json()["stored"]] == ["statement"]


@pytest.mark.parametrize("body, field", [({"text": ""}, "text"), ({"speaker": "user"}, "text"),
                                         ({"text": "hi", "speaker": ""}, "speaker"),
                                         ({"text": "hi", "addressee": ""}, "addressee"),
                                         ({"text": "hi", "said_at": "yesterday"}, "said_at"),
                                         ({"text": "hi", "mood": "x"}, "mood")])
def test_api_messages_bad_input_names_the_field(client, body, field):
    r = client.post("/v1/namespaces/dee/messages", json=body)
    assert r.status_code == 422 and field in r.text, r.text


def test_forget_in_conversation_deletes_the_statement_and_its_facts(service):
    said = service.write_message("fo", "I drive a red Halvik coupe. My sister Ana lives in Lund.")
    out = service.write_message("fo", "Please forget that I drive a red Halvik.")
    assert out.stored == [] and len(out.forgotten) == 1
    (f,) = out.forgotten
    assert f.request == "I drive a red Halvik" and not f.candidates
    assert {d.text for d in f.deleted} == {"I drive a red Halvik coupe.", "The user drives a red Halvik coupe."}
    assert all(service.get("fo", d.id).status == "deleted" for d in f.deleted)
    sister = [s for s in said.stored if "Ana" in s.text]
    assert all(service.get("fo", s.id).status == "active" for s in sister)  # nothing else touched


def test_an_ambiguous_forget_asks_and_deletes_nothing(service):
    service.write_message("fa", "I drive a red Halvik coupe.")
    service.write_message("fa", "My brother Tobin drives a red Halvik coupe.")
    before = {f.id for f in service.all_active("fa")}
    # both statements match; with a margin wider than their gap the request is ambiguous
    f = service.forget("fa", "the red Halvik coupe", margin=1.0)
    assert f.deleted == [] and {c.text for c in f.candidates} >= {"I drive a red Halvik coupe.",
                                                                  "My brother Tobin drives a red Halvik coupe."}
    assert {f.id for f in service.all_active("fa")} == before
    (nothing,) = service.write_message("fa", "Please forget that I own a submarine.").forgotten
    assert nothing.deleted == [] and nothing.candidates == []


def test_a_pet_named_with_her_is_kept_and_read_through_the_api(client):
    """POST .../messages with "I have a dog. Her name is Pepper." (it once answered 500 and kept nothing)."""
    r = client.post("/v1/namespaces/pepper/messages", json={"text": "I have a dog. Her name is Pepper."})
    assert r.status_code == 201, r.text
    stored = r.json()["stored"]
    assert [s["text"] for s in stored if s["kind"] == "statement"] == ["I have a dog.", "Her name is Pepper."]
    assert {(s["subject"], s["relation"], s["object"]) for s in stored if s["kind"] == "fact"} >= {
        ("the user", "dog", "Pepper")}


def test_forget_finds_what_the_request_is_about_by_its_words_and_names(service):
    """"my rent" deletes the statement that says rent, not the nearest by meaning alone; "everything about my
    ex" deletes what was said of the ex by name too; nothing else is touched."""
    service.write_message("fw", "My rent is 900 pounds a month. My sister Ana lives in Oslo.")
    service.write_message("fw", "My ex is called Dario Vell. Dario Vell lives in Tullow. I grew up in Ashcombe.")
    (f,) = service.write_message("fw", "Actually, could you forget what I said about my rent?").forgotten
    assert [d.text for d in f.deleted if d.derived_from is None] == ["My rent is 900 pounds a month."]
    (f,) = service.write_message("fw", "Delete everything about my ex.").forgotten
    assert {d.text for d in f.deleted if d.derived_from is None} == {"My ex is called Dario Vell.",
                                                                       "Dario Vell lives in Tullow."}
    assert {x.text for x in service.all_active("fw") if x.derived_from is None} == {
        "My sister Ana lives in Oslo.", "I grew up in Ashcombe."}


def test_forget_knows_what_a_request_calls_a_fact_and_reads_inflections(service):
    """"my old address" is where the user lived ("I used to live on ..."); "my volunteering" matches
    "I volunteer" only as an inflection; the other statements stay."""
    service.write_message("fx", "I used to live on Corran Street. I have a cat called Mottle.")
    service.write_message("fx", "I volunteer at Hobsfold Library on Saturdays. I work at Quillon Logistics.")
    (f,) = service.write_message("fx", "I'd rather you didn't remember my old address.").forgotten
    assert [d.text for d in f.deleted if d.derived_from is None] == ["I used to live on Corran Street."]
    (f,) = service.write_message("fx", "Please forget about my volunteering.").forgotten
    assert [d.text for d in f.deleted if d.derived_from is None] == ["I volunteer at Hobsfold Library on Saturdays."]
    assert {x.text for x in service.all_active("fx") if x.derived_from is None} == {
        "I have a cat called Mottle.", "I work at Quillon Logistics."}


def test_a_word_a_request_only_implies_never_outweighs_what_it_says(service):
    """"my old address" implies "live": with the old and the current home both stored, the implied word does
    not make the current home (whose names it would add) the best match; a complaint that the agent forgot
    something is no request at all."""
    service.write_message("fy", "I used to live on Corran Street. I live in Hexley with Rhys.")
    service.write_message("fy", "My birthday is on 14 March.")
    (f,) = service.write_message("fy", "Please forget my old address.").forgotten
    assert "I live in Hexley with Rhys." not in {d.text for d in f.deleted}
    assert [d.text for d in f.deleted if d.derived_from is None] == ["I used to live on Corran Street."] or f.candidates
    out = service.write_message("fy", "You forgot my birthday last year!")
    assert not out.forgotten
    assert "My birthday is on 14 March." in {x.text for x in service.all_active("fy")}


def test_a_request_that_points_back_forgets_the_last_statement_or_withdraws_one_unsaid(service):
    service.write_message("fb", "I live in Leeds.")
    service.write_message("fb", "I owe Marguerite 200 pounds.")
    (f,) = service.write_message("fb", "Forget I said that.").forgotten
    assert f.request == "I owe Marguerite 200 pounds." and f.deleted
    out = service.write_message("fb", "My PIN is 4471. Please don't keep that.")
    assert out.stored == [] and [f.withdrawn for f in out.forgotten] == [["My PIN is 4471."]]
    assert {x.text for x in service.all_active("fb") if x.derived_from is None} == {"I live in Leeds."}


def test_leaving_a_place_ends_working_or_living_there(service):
    """"I left Brisk Dental" supersedes "works at Brisk Dental" (ended by the leaving); a rename supersedes the
    old name; another employer left changes nothing."""
    service.write_message("fe", "I work at Brisk Dental. I live on Corran Street. My dog is called Pepper.")
    service.write_message("fe", "I left Halden Freight years ago.")
    active = {(f.relation, f.object) for f in service.all_active("fe") if f.derived_from}
    assert ("work at", "Brisk Dental") in active
    out = service.write_message("fe", "I left Brisk Dental. We moved out of Corran Street. We renamed the dog Biscuit.")
    active = {(f.relation, f.object) for f in service.all_active("fe") if f.derived_from}
    assert ("work at", "Brisk Dental") not in active and ("live on", "Corran Street") not in active
    assert ("dog", "Biscuit") in active and ("dog", "Pepper") not in active
    leaving = next(s for s in out.stored if s.kind == "fact" and s.relation == "leave")
    old = next(f for f in service.list("fe", status="superseded")[0] if f.object == "Brisk Dental")
    assert old.superseded_by == leaving.id


@pytest.mark.parametrize("before, said, now, gone", [
    ("I work at Vantry Labs.", "I quit Vantry Labs and joined Corbel Rail.", ("work at", "Corbel Rail"), "Vantry Labs"),
    ("I work at Vantry Labs.", "I left Vantry Labs in May and I'm at Corbel Rail now.", ("work at", "Corbel Rail"),
     "Vantry Labs"),
    ("I live on Ossenby Road.", "We moved out of Ossenby Road, we're on Pike Lane now.", ("live on", "Pike Lane"),
     "Ossenby Road"),
    ("My vet is Doctor Hale.", "I switched vets, it's Doctor Amadi now.", ("vet", "Doctor Amadi"), "Doctor Hale"),
    ("My partner is Rhys.", "Rhys and I split up, I'm with Maya now.", ("partner", "Maya"), "Rhys"),
    ("My phone number is 07700 900101.", "I've got a new number, it's 07700 900555.",
     ("phone number", "07700 900555"), "07700 900101"),
])
def test_a_change_said_in_passing_supersedes_the_old_value(service, before, said, now, gone):
    """The new value takes the relation of the one it replaces (language.changes), so it supersedes it; a new
    phone number whose statement is near the old one's is a change, not a duplicate."""
    ns = f"ch-{abs(hash(said)) % 10**8}"
    service.write_message(ns, before)
    service.write_message(ns, said)
    active = {(f.relation, f.object) for f in service.all_active(ns) if f.derived_from}
    assert now in active
    assert not any(o == gone and r == now[0] for r, o in active)


@pytest.mark.parametrize("said", [
    "I'm with my sister Ana in Oslo now.",  # "now" with nothing it replaces
    "I'm with Vodafone now.",  # not a person
    "I left Vantry Labs at five and met Tom.",  # an ending, and a value no workplace is said with
    "I joined the Hexley Book Club this year.",
])
def test_a_sentence_that_changes_nothing_supersedes_nothing(service, said):
    ns = f"cn-{abs(hash(said)) % 10**8}"
    service.write_message(ns, "I work at Corbel Rail. I live in Hexley. My partner is Rhys.")
    service.write_message(ns, said)
    active = {(f.relation, f.object) for f in service.all_active(ns) if f.derived_from}
    assert {("live in", "Hexley"), ("partner", "Rhys")} <= active
    assert ("work at", "Corbel Rail") in active or "Corbel Rail" not in said
    assert not {r for r, o in active if o in ("Tom", "Vodafone", "Hexley Book Club") and r in ("work at", "partner")}


def test_a_correction_in_one_message_is_not_a_duplicate(service):
    """Two values of one relation in one message: the later supersedes the earlier (their statements are near
    enough to be taken for twins)."""
    service.write_message("cm", "My phone number is 07700 900461. Sorry, my phone number is 07700 900882.")
    active = {(f.relation, f.object) for f in service.all_active("cm") if f.derived_from}
    assert ("phone number", "07700 900882") in active and ("phone number", "07700 900461") not in active
