"""Changes said in passing (language.changes): which stored relation a new value takes, read from the sentence's
structure. Sentences written for these tests (not from the forget corpora)."""

import pytest

from language.changes import Change, change_of, resolved
from language.intake import read_message
from language.lexicon import USER
from language.parsing import parse


def _read(text: str, current: dict[str, str]):
    sentence = read_message(text).statements[0]
    return {(t.relation, t.object) for t in resolved(sentence.triples, sentence.change, USER, current)}


@pytest.mark.parametrize("text, now, named, over", [
    ("I see Doctor Amadi now.", True, (), ()),
    ("These days I cycle to work.", True, (), ()),
    ("I switched banks last year.", False, ("bank",), ()),
    ("The Halvik is gone.", False, (), ("The Halvik",)),
    ("The Vantry Labs party is over.", False, (), ()),  # an event, not the thing named
    ("I saw Doctor Amadi in May.", False, (), ()),
])
def test_what_a_sentence_marks_about_change(text, now, named, over):
    change = change_of(next(parse([text])[0].sents))
    assert (change.now, change.named, change.over) == (now, named, over)


@pytest.mark.parametrize("text, current, expected", [
    # replacement: the sentence ends the stored value and names a new one
    ("I quit Vantry Labs and joined Corbel Rail.", {"work at": "Vantry Labs"}, ("work at", "Corbel Rail")),
    ("The tutoring job is over, I'm a courier these days.", {"work as": "tutoring"}, ("work as", "courier")),
    # a change named by its relation
    ("I switched vets, it's Doctor Amadi now.", {"vet": "Doctor Hale"}, ("vet", "Doctor Amadi")),
    # now: a partner, a job
    ("Rhys and I split up, I'm with Maya now.", {"partner": "Rhys"}, ("partner", "Maya")),
    ("I'm a pharmacist these days.", {"work as": "teacher"}, ("work as", "pharmacist")),
    # a new name for a stored value
    ("Biscuit has a new name, he's Crumpet now.", {"dog": "Biscuit"}, ("dog", "Crumpet")),
])
def test_a_new_value_takes_the_relation_it_replaces(text, current, expected):
    assert expected in _read(text, current)


@pytest.mark.parametrize("text, current", [
    ("I'm at Corbel Rail for a meeting.", {"work at": "Vantry Labs"}),  # no change marked
    ("I'm at Heathrow now.", {"work at": "Vantry Labs"}),  # where someone is, not where they work
    ("We're in Lisbon now.", {"live in": "Hexley"}),  # a trip, as far as "now" says
    ("I'm with Maya now.", {"work at": "Vantry Labs"}),  # nothing of that kind stored
    ("I'm with Maya now.", {"partner": "Rhys", "sister": "Maya"}),  # a value held under another relation
    ("I left Vantry Labs at five and met Tom.", {"work at": "Vantry Labs"}),  # not a verb a workplace is said with
    ("I quit Vantry Labs and visited Paris.", {"work at": "Vantry Labs"}),
    ("I sold the Saxby and drove to Leeds.", {"car": "blue Saxby"}),
    ("I moved out of Hexley and I'm at Vantry Labs now.", {"live in": "Hexley", "work at": "Vantry Labs"}),
    ("I changed doctors after Maria moved to Leeds.", {"doctor": "Doctor Hale"}),  # Maria is not the doctor
    ("I joined the Hexley Book Club this year.", {"work at": "Vantry Labs"}),
    ("I'm on the 07700 900555 now.", {"live on": "Ossenby Road"}),  # a number never replaces a name
    ("I quit smoking and joined a gym.", {"work at": "Vantry Labs"}),  # what ended is not what is stored
])
def test_nothing_is_replaced_without_a_change_of_that_kind(text, current):
    triples = read_message(text).statements[0].triples
    assert _read(text, current) == {(t.relation, t.object) for t in triples}


def test_no_stored_facts_no_change():
    assert resolved((), Change(now=True), USER, {}) == ()
