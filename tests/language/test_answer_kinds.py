"""language.answer_kinds.may_answer: which question may stand in for the one asked, by the kind of its answer."""

import pytest

from language.answer_kinds import about_memory, asked_kind, asks, held_words, may_answer, taught_kind


@pytest.mark.parametrize("question, answer, asked, expected", [
    # an activity or a job is not a place, a person or a time
    ("Where does Dorran work?", "Brinehook", "What does Dorran do for work?", False),
    ("What does Dorran do for a living?", "head chef", "What does Dorran do for work?", True),
    ("What did my dad retire after?", "thirty years", "What did my dad do before he retired?", False),
    ("What does my dad do for a living?", "lighthouse keeper", "What did my dad do before he retired?", True),
    # a person is not a place, a place not a person
    ("Every winter we go skiing where?", "Vennick Valley", "Which friend of mine plans the ski trip?", False),
    ("Who is my best friend?", "Ruari Penhask", "Which friend of mine plans the ski trip?", True),
    ("Who is my dentist?", "Oriel Tansby", "Where do I go to the dentist?", False),
    ("Who lives in Kelmscott?", "Jaendje Roxnion", "What is the capital of Kenya?", False),
    ("Where is Brinehook?", "Tollanby", "Which town is the Brinehook in?", True),
    ("In which city does Pozous live?", "Corrandal", "What would I see Pozous driving around in?", False),
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
    # a name of something the asker already names, when the asker wants something else about it
    ("What is my dog called?", "Tobble", "What breed is our dog?", False),
    ("What is my dog called?", "Tobble", "What do we call the dog these days?", True),
    ("Which band does Fennimore play in?", "Sallow Kites", "What does Fennimore play in the band?", False),
    ("What does Fennimore play in?", "Sallow Kites", "What does Fennimore play in the band?", False),
    ("What does Fennimore play?", "bass", "What does Fennimore play in the band?", True),
    ("What is the name of Fennimore's band?", "Sallow Kites", "Which band does Fennimore play in?", True),
    ("What is the name of my team?", "Caddoc Velle", "What's eating up most of my team's time this year?", False),
    ("What is the name of my sister?", "Ilsabet", "My sister, what's her name again?", True),
    ("What is the name of my dog?", "Pimento", "Tell me the name of my dog.", True),
    ("What is the phone number of Ada Brennock?", "415-555-0192", "Give me Ada Brennock's number, please.", True),
    # a thing is not a person; a count is not a time, nor a count of other things
    ("What is the name of Tessaly's husband?", "Emeric", "What does Tessaly host on Thursdays?", False),
    ("When did Jorund leave Corbel Rail?", "6 December 2026", "How many times has Jorund run the race?", False),
    ("What did Jorund leave after?", "eight years", "How many times has Jorund run the half marathon?", False),
    ("How old is Lottabel?", "six", "How many candles were on Lottabel's last birthday cake?", True),
    # a job or an activity is not a name
    ("Which company does Dorran work for?", "Brinehook", "What does Dorran do for work?", False),
])
def test_a_question_stands_in_only_when_its_answer_is_of_the_kind_asked_for(question, answer, asked, expected):
    assert may_answer(answer, question, asked) is expected


def test_asked_kind_reads_the_question():
    assert asked_kind("Who's my supervisor at work?") == "person"
    assert asked_kind("Which cousin of mine is in a band?") == "person"
    assert asked_kind("So where do we live now?") == "place"
    assert asked_kind("What does Uncle Anselm do?") == "act"
    assert asked_kind("Which town is the Brinehook in?") == "place"
    assert asked_kind("What is the capital of Norway?") == "place"
    assert asked_kind("Which band does Fennimore play in?") is None
    assert asked_kind("What would I see Pozous driving around in?") == "thing"
    assert asked_kind("What is the Brinehook in?") is None
    assert taught_kind("In which city does Pozous live?") == taught_kind("Where does Pozous live?") == "place"
    assert taught_kind("Which car do I drive?") is None


def test_an_activity_is_asked_by_what_as_the_object_of_do():
    assert asked_kind("What does my sister do?") == "act"
    assert asked_kind("What did my dad do before he retired?") == "act"
    assert asked_kind("Where does my sister work?") != "act"
    assert asked_kind("What do I call the dog?") != "act"


def test_what_a_question_asks_for():
    assert asks("What is the name of Fennimore's band?").noun == "band"
    assert asks("What did Brisa name her boat?").noun == "boat" and asks("What did Brisa name her boat?").naming
    assert asks("What breed is our dog?").noun == "breed" and "dog" in asks("What breed is our dog?").given
    assert asks("What does Fennimore play in?").slot == ("play", "in")
    assert ("play", "in") in asks("What does Fennimore play in the band?").filled
    assert asks("How many times has Jorund run it?").counted == "time"
    assert asked_kind("What does Tessaly host on Thursdays?") == "thing"
    assert asked_kind("How many candles were on the cake?") == "count"
    assert asked_kind("What did Brisa name her boat?") is None
    assert taught_kind("What is the name of Tessaly's husband?") == "person"
    assert taught_kind("What is the name of Fennimore's band?") is None


HELD = held_words(["My sister Ilsabet is a vet in Dunmarrow.", "Ruari's cat is Mothwick.",
                   "Tessaly runs the Thursday quiz at the Gull & Lantern.", "I have two dogs."])


@pytest.mark.parametrize("question, expected", [
    ("What is the plural of child?", False),  # names nothing held, says nothing of the user
    ("What is the capital of Norway?", False),
    ("Which planet has rings?", False),
    ("What does my sister do?", True),  # speaks of the user
    ("Where do we go skiing?", True),
    ("Which town does Ilsabet work in?", True),  # names someone the facts name
    ("What is Ruari's cat called?", True),  # "Ruari" split from "'s" by the parse, whole in the facts
    ("Who runs the quiz at the Gull & Lantern?", True),
    ("What is the dog called?", True),  # "dog" held as "dogs"
    ("What happened yesterday?", True),  # names nothing at all: may be about memory
])
def test_a_question_is_about_memory_when_it_speaks_of_the_user_or_names_what_is_held(question, expected):
    assert about_memory(question, HELD) is expected


def test_a_name_the_memory_does_not_hold_is_about_the_world():
    assert not about_memory("Which town does Ilsabet work in?", held_words(["Ruari's cat is Mothwick."]))
    assert about_memory("Which town does my sister work in?", frozenset())
