"""The matcher read as a person reads an answer: a table of answers, each labelled by hand (right or wrong for
the expected value, given the other known values of the question, if any)."""

from __future__ import annotations

import pytest

from language.matching import states

# (answer, expected, other known values, a person would count it right)
TABLE = [
    # inflections count
    ("I'm allergic to hazelnuts.", "hazelnut", (), True),
    ("She is allergic to hazelnut.", "hazelnuts", (), True),
    ("He gave up running.", "run", (), True),
    ("They go cycling on Sundays.", "cycle", (), True),
    ("She studies law.", "study", (), True),
    ("He works for a large organization.", "organ", (), False),  # begins alike, another word
    ("Lisbonne.", "Lisbon", (), False),
    ("17", "7", (), False),
    ("a million", "lion", (), False),
    ("She plays the cello.", "cello", (), True),
    # alternatives are guesses, known values or not
    ("Bergen or Oslo.", "Bergen", (), False),
    ("Probably Bergen, Trondheim or Stavanger.", "Bergen", (), False),
    ("Either Oslo or Bergen.", "Bergen", (), False),
    ("Bergen, or maybe Oslo.", "Bergen", (), False),
    ("It's Bergen, or thereabouts.", "Bergen", (), True),
    ("Bergen, or so I remember.", "Bergen", (), True),
    ("She lives in Bergen, or did when we last spoke.", "Bergen", (), True),
    ("Tea or coffee, I can't remember.", "tea", (), False),
    ("Varkaus, Porvoo, Ostrava or Tromsdal", "Porvoo", ("Varkaus", "Ostrava", "Tromsdal"), False),
    # negation, read in its clause, before or after the value
    ("Bergen is not where you live.", "Bergen", (), False),
    ("Bergen isn't right.", "Bergen", (), False),
    ("Not Bergen.", "Bergen", (), False),
    ("You don't live in Bergen.", "Bergen", (), False),
    ("You never lived in Bergen.", "Bergen", (), False),
    ("No, it's Bergen.", "Bergen", (), True),
    ("No. You live in Bergen.", "Bergen", (), True),
    ("It isn't Oslo, it's Bergen.", "Bergen", ("Oslo",), False),  # another known value is named
    ("It isn't Oslo, it's Bergen.", "Bergen", (), True),
    ("It's not Oslo but Bergen.", "Bergen", (), True),
    ("Bergen, not Oslo.", "Bergen", (), True),
    ("Bergen, not Oslo.", "Oslo", (), False),
    ("I don't think it's Bergen.", "Bergen", (), False),
    ("Bergen is where you live.", "Bergen", (), True),
    ("Bergen was your home until last year.", "Bergen", (), True),
    ("Bergen doesn't ring a bell.", "Bergen", (), False),
    # other known values next to the expected one
    ("Fasfouth Lanthux drives a brown Volga.", "brown Volga", ("blue Volga",), True),
    ("He drove a blue Volga, then a brown Volga.", "brown Volga", ("blue Volga",), False),
    ("She lives in Porvoo Harbour.", "Porvoo Harbour", ("Ostrava",), True),
    ("Porvoo. Not Ostrava.", "Porvoo", ("Ostrava",), False),
    # numbers and names
    ("Call her on (555) 012-3456.", "555-012-3456", (), True),
    ("Her number ends in 3456.", "555-012-3456", (), False),
    ("Lottabel is six.", "six", (), True),
    ("Lottabel is sixteen.", "six", (), False),
    ("Ruari Penhask organises it.", "Ruari Penhask", (), True),
    ("Ruari organises it.", "Ruari Penhask", (), False),
    ("Her dog is called Pepper.", "Pepper", (), True),
]


def test_the_table_is_big_enough_and_labels_both_ways():
    assert len(TABLE) >= 40 and {ok for *_, ok in TABLE} == {True, False}


@pytest.mark.parametrize("answer, expected, others, ok", TABLE)
def test_an_answer_is_read_as_a_person_would(answer, expected, others, ok):
    assert states(answer, [expected], others) is ok
