"""agent.answers.may_answer: which question may stand in for the one asked, by the kind of its answer."""

import pytest

from agent.answers import asked_kind, may_answer


@pytest.mark.parametrize("question, answer, asked, expected", [
    # an activity or a job is not a place, a person or a time
    ("Where does Dorran work?", "Brinehook", "What does Dorran do for work?", False),
    ("What does Dorran do for a living?", "head chef", "What does Dorran do for work?", True),
    ("What did my dad retire after?", "thirty years", "What did my dad do before he retired?", False),
    ("What does my dad do for a living?", "lighthouse keeper", "What did my dad do before he retired?", True),
    # a person is not a place, a place not a person
    ("Every winter the user go skiing where?", "Vennick Valley", "Which friend of mine plans the ski trip?", False),
    ("Who is my best friend?", "Ruari Penhask", "Which friend of mine plans the ski trip?", True),
    ("Who is my dentist?", "Oriel Tansby", "Where do I go to the dentist?", False),
    ("Where does my brother work?", "Brinehook", "Where could I eat my brother's cooking?", True),
    # the asker said it already
    ("What is it that Emeric builds in?", "garage", "What's Emeric putting together in the garage?", False),
    ("What does Emeric build?", "canoe", "What's Emeric putting together in the garage?", True),
    ("What did Jorund leave after?", "eight years", "Which company did Jorund leave after eight years?", False),
    # a time only for a question that asks for one, a number for "how many"
    ("When did Jorund leave Corbel Rail?", "12 March 2026", "Which company did Jorund leave?", False),
    ("What is the name of Jorund's leave?", "Corbel Rail", "Which company did Jorund leave after eight years?", True),
    ("Where does Jorund work?", "Pellick & Vane", "How many years was Jorund at Corbel Rail?", False),
    ("How long was Jorund at Corbel Rail?", "eight years", "How many years was Jorund at Corbel Rail?", True),
    ("Since when does Tessaly live in Lowhithe?", "since 2016", "What year did Tessaly move?", True),
    ("Where does Tessaly live?", "Lowhithe", "Which town has Tessaly made her home?", True),
])
def test_a_question_stands_in_only_when_its_answer_is_of_the_kind_asked_for(question, answer, asked, expected):
    assert may_answer(answer, question, asked) is expected


def test_asked_kind_reads_the_question():
    assert asked_kind("Who's my supervisor at work?") == "person"
    assert asked_kind("Which cousin of mine is in a band?") == "person"
    assert asked_kind("So where do we live now?") == "place"
    assert asked_kind("What does Uncle Anselm do?") == "act"
    assert asked_kind("Which town is the Brinehook in?") is None


def test_an_activity_is_asked_by_what_as_the_object_of_do():
    assert asked_kind("What does my sister do?") == "act"
    assert asked_kind("What did my dad do before he retired?") == "act"
    assert asked_kind("Where does my sister work?") != "act"
    assert asked_kind("What do I call the dog?") != "act"
