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
    ("The old van is gone.", False, (), ("The old van",)),
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
    # now: a workplace joined, a partner, a job
    ("I joined Corbel Rail, so I'm a surveyor now.", {"work at": "Vantry Labs"}, ("work at", "Corbel Rail")),
    ("I'm with Tobin now.", {"partner": "Rhys"}, ("partner", "Tobin")),
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
    ("I'm with Tobin now.", {"work at": "Vantry Labs"}),  # nothing of that kind stored
    ("I'm on the 07700 900555 now.", {"live on": "Ossenby Road"}),  # a number never replaces a name
    ("I quit smoking and joined a gym.", {"work at": "Vantry Labs"}),  # what ended is not what is stored
])
def test_nothing_is_replaced_without_a_change_of_that_kind(text, current):
    triples = read_message(text).statements[0].triples
    assert _read(text, current) == {(t.relation, t.object) for t in triples}


def test_no_stored_facts_no_change():
    assert resolved((), Change(now=True), USER, {}) == ()
