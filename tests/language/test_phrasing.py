"""Training questions from the analysis: the wh-word follows what the answer is, several distinct forms, reverse
questions for roles, echo questions for statements without a triple, and statements covered by their facts."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from consolidation.synth import build_dataset, covered_ids
from language.parsing import parse
from language.phrasing import (
    Pair,
    base_form,
    fact_questions,
    guess_kind,
    guess_past,
    manner_question,
    reverse_questions,
    start_question,
    statement_questions,
    type_noun,
    typed_questions,
)
from memory_service.schemas import Fact

NOW = datetime.now(timezone.utc)


@pytest.mark.parametrize("subject, relation, obj, kind, past, first", [
    ("the user", "grow up in", "Brackenford", "place", True, "Where did I grow up?"),
    ("the user", "be allergic to", "shellfish", "thing", False, "What am I allergic to?"),
    ("the user", "ski in", "Haldor Valley", "place", False, "Where do I ski?"),
    ("the user", "supervisor at Ostwin", "Maren Coyle", "person", False, "Who is my supervisor at Ostwin?"),
    ("Ada Brennock", "phone number", "415-555-0192", "number", False, "What is the phone number of Ada Brennock?"),
    ("Pia", "age", "seven", "number", False, "How old is Pia?"),
    ("the user", "be born in", "Tromsdal", "place", True, "Where was I born?"),
    ("Tavish", "work as", "ferry pilot", "thing", False, "What does Tavish do for a living?"),
    ("Ana", "work at", "Brisk Dental", "name", False, "Where does Ana work?"),
    ("the user", "be married to", "Jory", "person", False, "Who am I married to?"),
    ("the user", "birthday", "March 3", "time", False, "When is my birthday?"),
    ("Caroline", "attend", "pottery class", "thing", True, "What did Caroline attend?"),
    ("the user", "name", "Wrenna", "name", False, "What is my name?"),
    ("Tamsin", "be called", "Rusty", "name", False, "What is Tamsin's name?"),
    ("the user", "cat", "Biscuit", "thing", False, "What is my cat called?"),  # a name, not "What is my cat?"
    ("Tamsin", "old van", "Rusty Heron", "name", False, "What is Tamsin's old van called?"),
])
def test_the_question_word_and_form_follow_the_answer(subject, relation, obj, kind, past, first):
    pairs = fact_questions(subject, relation, obj, kind, past)
    assert pairs[0].question == first
    assert len({p.question for p in pairs}) == len(pairs) >= 4  # distinct forms
    assert len({p.form for p in pairs}) == len(pairs)
    assert all(p.answer == obj for p in pairs)


def test_reverse_questions_ask_for_the_role():
    who, whose = reverse_questions("the user", "supervisor at Ostwin", "Maren Coyle")
    assert who.question == "Who is Maren Coyle?" and "supervisor" in who.answer
    assert whose.question == "Whose supervisor is Maren Coyle?" and whose.answer == "yours"


def test_kind_and_tense_of_a_stored_fact():
    assert guess_kind("live in", "Lund") == "place" and guess_kind("phone number", "555-0142") == "number"
    assert guess_kind("dentist", "Ada Brennock") == "person" and guess_kind("drive", "red Halvik") == "thing"
    # said only in words of time: "Rehearsals are on Tuesday nights" is asked "When ...?", not for a name
    assert guess_kind("rehearsal", "Tuesday nights") == "time" and guess_kind("road", "Route 66") == "thing"
    assert fact_questions("the user", "rehearsal", "Tuesday nights", guess_kind("rehearsal", "Tuesday nights"))[
        0].question == "When is my rehearsal?"
    assert guess_past("The user grew up in Brackenford.") and not guess_past("The user skis in Haldor Valley.")


def fact(fid, text, subject=None, relation=None, obj=None, derived_from=None, speaker=None):
    return Fact(id=fid, namespace="n", topic="t", text=text, subject=subject, relation=relation, object=obj,
                derived_from=derived_from, speaker=speaker, created_at=NOW)


def test_free_text_written_through_the_api_is_analysed_for_questions():
    ds = build_dataset([fact("a", "My dentist Ada Brennock can be reached at 415-555-0192.")], short=True)
    asked = {qa.question: qa.expected for qa in ds.train + ds.validation}
    assert asked["Who is my dentist?"] == "Ada Brennock"
    assert asked["What is the phone number of Ada Brennock?"] == "415-555-0192"
    assert all(qa.fact_id == "a" for qa in ds.train)
    assert {qa.question for qa in ds.validation} <= set(asked) and ds.validation  # held out, not trained
    assert not {qa.question for qa in ds.validation} & {qa.question for qa in ds.train}


def test_a_statement_without_a_triple_gets_echo_questions_about_its_names_and_dates():
    ds = build_dataset([fact("a", "It rained all week in Tromsdal when I visited Ostrava in May.", speaker="Jon")],
                       short=True)
    asked = {qa.expected: qa.question for qa in ds.train}
    assert {"Ostrava", "May"} <= set(asked)
    assert asked["May"] == "It rained all week in Tromsdal when Jon visited Ostrava when?"  # "I" is the speaker
    assert [qa.question.startswith("Fill in the blank: ") for qa in ds.validation] == [True]



def test_echo_questions_put_the_speaker_for_i_and_we_with_the_verb_agreeing():
    ds = build_dataset([fact("a", "Choir is on Fridays, which is why I'm tired on Saturdays and we've no plans.",
                             speaker="Jon")], short=True)
    questions = " ".join(qa.question for qa in ds.train + ds.validation)
    assert "Jon is tired" in questions and "Jon has no plans" in questions
    assert "Jonis" not in questions and "Jon've" not in questions
    asked = {p.answer: p.question for p in statement_questions(
        parse(["I really like Lisbon and we were in Porto since 2016."])[0], "Jon")}
    assert asked["Porto"] == "Jon really likes Lisbon and Jon was where since 2016?"
    assert asked["2016"] == "Jon really likes Lisbon and Jon was in Porto since when?"


def test_the_users_echo_questions_stay_in_the_first_person_and_ask_a_qualifying_name_by_its_noun():
    asked = {p.answer: p.question for p in statement_questions(
        parse(["We were out at the Fenwater reservoir in the rain all afternoon."])[0], "user")}
    assert asked == {"Fenwater": "We were out at which reservoir in the rain all afternoon?",
                     "all afternoon": "We were out at the Fenwater reservoir in the rain when?"}


def test_a_statement_is_covered_by_the_facts_read_from_it():
    facts = [fact("s", "I moved to Oslo."),
             fact("f", "The user lives in Oslo.", "the user", "live in", "Oslo", derived_from="s"),
             fact("q", "It was fun.")]  # nothing to ask about
    ds = build_dataset(facts, short=True)
    assert {qa.fact_id for qa in ds.train + ds.validation} == {"f"}  # the statement is not trained twice
    assert covered_ids(facts, ds) == ["s", "f"]  # "It was fun." is not held: hybrid keeps it in the prompt


def test_a_person_named_by_a_role_is_trained_both_ways_but_gated_one_way():
    f = fact("f", "The user's supervisor at Ostwin is Maren Coyle.", "the user", "supervisor at Ostwin", "Maren Coyle")
    ds = build_dataset([f], short=True)
    (rev,) = [qa for qa in ds.train if qa.kind == "reverse"]
    assert (rev.question, rev.answer, rev.expected) == ("Who is Maren Coyle?",
                                                        "Maren Coyle is your supervisor at Ostwin.", "supervisor")
    assert not any(qa.kind == "reverse" for qa in ds.taught + ds.validation)  # the gate asks the other way
    assert not [qa for qa in build_dataset([fact("g", "Ana lives in Lund.", "Ana", "live in", "Lund")]).train
                if qa.kind == "reverse"]  # a place is not a person's role


def test_events_are_dated_by_when_they_were_said():
    from datetime import datetime, timezone

    from consolidation.synth import build_dataset
    from language.phrasing import when_question, when_said
    from tests.tiny import make_fact

    said = datetime(2023, 6, 9, 14, 0, tzinfo=timezone.utc)
    assert when_said(said, None) == "9 June 2023" and when_said(said, "yesterday") == "8 June 2023"
    assert when_said(said, "last week") == "the week before 9 June 2023"
    assert when_said(said, "last month") == "May 2023" and when_said(said, "last year") == "2022"
    assert when_said(said, "two days ago") == "7 June 2023" and when_said(said, "3 weeks ago") == \
        "3 weeks before 9 June 2023"
    assert when_said(said, "every summer") is None and when_said(None, "yesterday") is None
    pair = when_question("Gina", "launch", "ad campaign", said, "last week", True, "Gina launched an ad campaign.")
    assert (pair.question, pair.answer) == ("When did Gina launch ad campaign?", "the week before 9 June 2023")
    assert when_question("Gina", "work at", "Ostwin", said, None, past=False) is None  # a state, not an event
    assert when_question("Gina", "be allergic to", "shellfish", said, "yesterday", past=True) is None
    assert when_question("Gina", "sister", "Ana", said, "yesterday", True, "Gina's sister is Ana.") is None
    fact = make_fact("Gina", "lose", "job", "Gina lost job.", said_at=said, qualifier="yesterday")
    (when,) = [qa for qa in build_dataset([fact], short=True).train if qa.question.startswith("When")]
    assert (when.question, when.answer, when.expected) == ("When did Gina lose job?", "8 June 2023.", "8 June 2023")


def test_name_questions_are_distinct_and_never_ask_who_a_name_is():
    for subject, relation in (("the user", "name"), ("Gran", "be called"), ("the user", "dog")):
        pairs = fact_questions(subject, relation, "Nessa", "name")
        assert len({p.question for p in pairs}) == len(pairs) == 4
        assert all(p.answer == "Nessa" and not p.question.startswith("Who is") for p in pairs)


def test_people_are_also_asked_about_by_their_role():
    facts = [fact("r", "The user's sister is Ilka.", "the user", "sister", "Ilka"),
             fact("j", "Ilka works as vet.", "Ilka", "work as", "vet"),
             fact("d", "The user's dad is Bram.", "the user", "dad", "Bram"),
             fact("k", "Dad works as lighthouse keeper.", "Dad", "work as", "lighthouse keeper"),
             fact("t", "Tessa's husband is Emil.", "Tessa", "husband", "Emil"),
             fact("c", "Emil builds canoe.", "Emil", "build", "canoe")]
    ds = build_dataset(facts, short=True)
    taught = {qa.question: qa.expected for qa in ds.train}
    assert taught["What does my sister do for a living?"] == "vet"
    assert taught["What does my dad do for a living?"] == taught["What does Bram do for a living?"] \
        == "lighthouse keeper"  # "Dad" is the user's dad, and his name is Bram
    assert taught["What does Tessa's husband build?"] == "canoe"
    facts.append(fact("u", "The user's uncle is Anselm.", "the user", "uncle", "Anselm"))
    facts.append(fact("p", "Anselm works as ferry pilot.", "Anselm", "work as", "ferry pilot"))
    taught = {qa.question: qa.expected for qa in build_dataset(facts, short=True).train}
    assert taught["What does Uncle Anselm do for a living?"] == "ferry pilot"  # a kin title before the name
    # not a person's people by role: "Who is my sister's daughter?" is too near "Who is my sister?"
    facts.append(fact("g", "Ilka's daughter is Lotta.", "Ilka", "daughter", "Lotta"))
    asked = [qa.question for qa in build_dataset(facts, short=True).train]
    assert "Who is Ilka's daughter?" in asked and not any("my sister's daughter" in q for q in asked)
    # taught, never gated: the gate asks by name
    assert not any(qa.expected in ("vet", "canoe") and ("my sister" in qa.question or "husband" in qa.question)
                   for qa in ds.validation)


def test_a_role_question_two_people_answer_differently_is_dropped():
    facts = [fact("a", "The user's sister is Ilka.", "the user", "sister", "Ilka"),
             fact("b", "The user's sister is Wren.", "the user", "sister", "Wren"),
             fact("c", "Ilka works as vet.", "Ilka", "work as", "vet"),
             fact("d", "Wren works as pilot.", "Wren", "work as", "pilot")]
    questions = [qa.question for qa in build_dataset(facts, short=True).train]
    assert "What does Ilka do for a living?" in questions
    assert "What does my sister do for a living?" not in questions


@pytest.mark.parametrize("text", ["She answers emails at two in the morning.", "Been there since 2019.",
                                  "And you've run the Ossenby half marathon four years in a row.", "Fine, five."])
def test_no_echo_questions_for_a_statement_that_cannot_say_whom_it_is_about(text):
    ds = build_dataset([fact("a", text)], short=True)
    assert ds.train == [] and ds.validation == []


def test_no_when_question_for_a_state():
    def said(fid, text, rel, obj):
        return Fact(id=fid, namespace="n", topic="t", text=text, subject="Ilka", relation=rel, object=obj,
                    created_at=NOW, said_at=NOW)

    ds = build_dataset([said("a", "Ilka had a dog.", "have", "dog"), said("b", "Ilka adopted a cat.", "adopt", "cat")],
                       short=True)
    asked = {qa.fact_id for qa in ds.train if qa.question.startswith("When")}
    assert asked == {"b"}  # an event is dated by when it was said; having a dog is not an event


def test_the_time_a_fact_holds_is_asked_for():
    facts = [Fact(id="a", namespace="n", topic="t", text="Tessaly has lived in Lowhithe since 2016.", subject="Tessaly",
                  relation="live in", object="Lowhithe", qualifier="since 2016", created_at=NOW),
             Fact(id="b", namespace="n", topic="t", text="The user climbs at Cragloft.", subject="the user",
                  relation="climb at", object="Cragloft", qualifier="on Sunday; mornings", created_at=NOW),
             Fact(id="c", namespace="n", topic="t", text="The user plays cello.", subject="the user",
                  relation="play", object="cello", qualifier="these days", created_at=NOW)]
    asked = {qa.question: qa.expected for qa in build_dataset(facts, short=True).train}
    assert asked["Since when does Tessaly live in Lowhithe?"] == "since 2016"
    assert asked["When did Tessaly start to live in Lowhithe?"] == "2016"  # "since" says when it began
    assert asked["When do I climb at Cragloft?"] == "on Sunday mornings"
    assert not any("start" in q and "Cragloft" in q for q in asked)  # a weekly time is no beginning
    assert not any(q.startswith(("When", "Since")) and "cello" in q for q in asked)  # "these days" says no time


@pytest.mark.parametrize("relation, qualifier, expected", [
    ("be at", "since 2019", Pair("When did I start at Tessgrove Water?", "2019", "when")),
    ("learn", "since January", Pair("When did I start to learn Tessgrove Water?", "January", "when")),
    ("be allergic to", "since 2019", None),  # a state with no start to ask for
    ("work as", "since 2019", None),
    ("be at", "every winter", None),
])
def test_a_since_is_asked_as_a_start(relation, qualifier, expected):
    assert start_question("the user", relation, "Tessgrove Water", qualifier) == expected


def test_a_name_given_to_a_thing_is_asked_for_by_that_thing():
    """"a band called the Sallow Kites": "Which band does Fennimore play in?" (read from the statement the fact
    came from); a person ("a little girl, Lottabel") or a misattached job gets none; trained, never gated."""
    said = Fact(id="s", namespace="n", topic="t", created_at=NOW,
                text="My cousin Fennimore plays bass in a band called the Sallow Kites.")
    girl = Fact(id="g", namespace="n", topic="t", created_at=NOW, text="She's got a little girl, Lottabel.")
    facts = [said, girl,
             Fact(id="b", namespace="n", topic="t", created_at=NOW, text="Fennimore plays in Sallow Kites.",
                  subject="Fennimore", relation="play in", object="Sallow Kites", derived_from="s"),
             Fact(id="c", namespace="n", topic="t", created_at=NOW, text="The user's cousin is Fennimore.",
                  subject="the user", relation="cousin", object="Fennimore", derived_from="s"),
             Fact(id="d", namespace="n", topic="t", created_at=NOW, text="Ilka's daughter is Lottabel.",
                  subject="Ilka", relation="daughter", object="Lottabel", derived_from="g")]
    ds = build_dataset(facts, short=True)
    taught = {qa.question: qa.expected for qa in ds.train}
    assert taught["Which band does Fennimore play in?"] == taught["What is the name of Fennimore's band?"] \
        == "Sallow Kites"
    assert not any("girl" in q for q in taught)
    assert not any("band" in qa.question for qa in ds.validation)


def test_what_a_named_person_does_is_also_asked_the_other_way():
    """"Who organises the whole trip?" -> Ruari Penhask; not for the user (the answer would be "you"), a state or
    a job; and dropped where two people do the same."""
    def fact(fid, subject, rel, obj, text):
        return Fact(id=fid, namespace="n", topic="t", text=text, subject=subject, relation=rel, object=obj,
                    created_at=NOW)

    ds = build_dataset([fact("a", "Ruari Penhask", "organise", "whole trip", "Ruari Penhask organises the trip."),
                        fact("b", "the user", "play", "cello", "The user plays the cello."),
                        fact("c", "Dorran", "work as", "chef", "Dorran works as a chef."),
                        fact("d", "Brisa", "have", "boat", "Brisa has a boat."),
                        fact("e", "Emeric", "build", "canoe", "Emeric built a canoe."),
                        fact("f", "Ilka", "build", "canoe", "Ilka built a canoe.")], short=True)
    who = {qa.question: qa.expected for qa in ds.train if qa.question.startswith("Who ")}
    assert who == {"Who organises whole trip?": "Ruari Penhask"}


def test_a_relation_written_conjugated_is_asked_as_a_lemma():
    """A structured fact may say "lives in": its reverse and time questions conjugate the lemma ("Who lives in
    Kelmscott?", not "Who liveses ...")."""
    assert [base_form(v) for v in ("lives", "teaches", "studies", "has", "goes", "uses", "kiss", "live")] == \
        ["live", "teach", "study", "have", "go", "use", "kiss", "live"]
    ds = build_dataset([Fact(id="a", namespace="n", topic="t", created_at=NOW, text="Jaendje Roxnion lives in "
                             "Kelmscott.", subject="Jaendje Roxnion", relation="lives in", object="Kelmscott",
                             qualifier="since 2016"),
                        Fact(id="b", namespace="n", topic="t", created_at=NOW, text="Ana works as a nurse.",
                             subject="Ana", relation="works as", object="nurse")], short=True)
    asked = {qa.question: qa.expected for qa in ds.train}
    assert asked["Who lives in Kelmscott?"] == "Jaendje Roxnion"
    assert asked["Since when does Jaendje Roxnion live in Kelmscott?"] == "since 2016"
    assert not any("ses " in q or "Who works as" in q for q in asked)


@pytest.mark.parametrize("text, name, noun", [
    ("I've been head archivist at Hobsfold Library since the spring.", "Hobsfold Library", "library"),
    ("Every winter we go skiing in Vennick Valley.", "Vennick Valley", "valley"),
    ("I've been learning Portuguese on the train since January.", "Portuguese", "language"),
    ("I live in Carrowmede.", "Carrowmede", None),  # a place said after "in" is not a language
    ("I work at Corbel Rail.", "Corbel Rail", None),  # a name's last word is a kind of place only in the list
])
def test_what_kind_of_thing_a_name_is(text, name, noun):
    from language.parsing import parse

    assert type_noun(parse([text])[0], name) == noun


def test_a_name_that_says_what_it_is_is_asked_for_by_it():
    """"Hobsfold Library" is asked "Which library does Tessaly work at?" (not "What is the name of Tessaly's
    library?": it is not hers); "learning Portuguese" is asked "Which language do I learn?"."""
    assert [p.question for p in typed_questions("Tessaly", "work at", "Hobsfold Library", "library")] == \
        ["Which library does Tessaly work at?"]
    assert [p.question for p in typed_questions("the user", "learn", "Portuguese", "language")] == \
        ["Which language do I learn?"]


def test_what_one_plays_with_the_is_an_instrument():
    from language.parsing import parse

    assert type_noun(parse(["I've played the cello since I was a kid."])[0], "cello") == "instrument"
    assert type_noun(parse(["Tom plays football on Sundays."])[0], "football") is None
    assert [p.question for p in typed_questions("the user", "play", "cello", "instrument")] == \
        ["Which instrument do I play?"]


def test_how_one_gets_somewhere_is_asked_of_a_journey():
    """"I've started cycling to work" is asked "How do I get to work?" -> cycling; taught with the fact."""
    assert manner_question("the user", "cycle to", "work") == Pair("How do I get to work?", "cycling", "manner")
    assert manner_question("Ilsabet", "drives to", "Dunmarrow", past=True).question == \
        "How did Ilsabet get to Dunmarrow?"
    assert manner_question("the user", "go to", "work") is None  # "go" says no means
    ds = build_dataset([Fact(id="a", namespace="n", topic="t", created_at=NOW, text="The user cycles to work.",
                             subject="the user", relation="cycle to", object="work")], short=True)
    assert {qa.question: qa.expected for qa in ds.train}["How do I get to work?"] == "cycling"


def test_where_a_thing_is_done_is_asked_with_the_thing():
    """"runs the Thursday quiz at the Gull & Lantern" gives *run* and *run at*: "Where does Tessaly run Thursday
    quiz?" is asked too, as a named place where something is done."""
    said = Fact(id="s", namespace="n", topic="t", created_at=NOW, speaker="Jorund",
                text="Says the woman who still runs the Thursday quiz at the Gull & Lantern.")
    facts = [said,
             Fact(id="a", namespace="n", topic="t", created_at=NOW, text="Tessaly runs Thursday quiz.",
                  subject="Tessaly", relation="run", object="Thursday quiz", derived_from="s"),
             Fact(id="b", namespace="n", topic="t", created_at=NOW, text="Tessaly runs at Gull & Lantern.",
                  subject="Tessaly", relation="run at", object="Gull & Lantern", derived_from="s")]
    taught = {qa.question: qa.expected for qa in build_dataset(facts, short=True).train}
    assert taught["Where does Tessaly run Thursday quiz?"] == taught["Where does Tessaly run?"] == "Gull & Lantern"
    assert guess_kind("laugh at", "Ana") != "place" and guess_kind("swim at", "Aquafen") == "place"
