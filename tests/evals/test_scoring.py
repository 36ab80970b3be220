"""Answer scoring: expected answers found as normalized token spans; leak tags pass when nothing is said."""

from __future__ import annotations

import pytest

from evals.scoring import Score, correct, mentions, normalize, score


def test_normalize():
    assert normalize("  The Café,  No. 7!\n") == "cafe no 7"
    assert normalize("Marla's ferret doesn't bite") == "marla ferret doesnt bite"
    assert normalize("An oboe_and A harp") == "oboe and harp"


@pytest.mark.parametrize("answer, candidate, found", [
    ("She lives in Lisbon, Portugal.", "lisbon", True),
    ("She lives in LISBON", "Lisbon.", True),
    ("Lisbonne", "Lisbon", False),  # a token, not a substring
    ("a category", "cat", False),
    ("plum dumplings and tea", "Plum Dumplings", True),
    ("dumplings of plum", "plum dumplings", False),  # the span keeps its order
    ("She plays the cello", "a cello", True),  # articles dropped on both sides
    ("Zürich", "Zurich", True),
    ("Marla's pet", "Marla", True),
    ("call (555) 012-3456 today", "5550123456", True),  # phone numbers with or without separators
    ("call 5550123456", "555-012-3456", True),
    ("from 2019-2020", "2019", True),  # a year range is not a phone number
    ("on May 7, 2023", "May 7 2023", True),
    ("on May 7, 2023", "2023", True),
    ("room 42", "4", False),
    ("room 42", "42", True),
    ("anything", "The", False),  # nothing left to look for
])
def test_mentions(answer, candidate, found):
    assert mentions(answer, candidate) is found


def test_correct_uses_aliases():
    assert correct("He plays the violoncello", ["cello"], ["violoncello"])
    assert not correct("He plays the violin", ["cello"], ["violoncello"])
    assert not correct("", ["cello"])


def test_score_by_tag():
    assert score("taught", "Pimento, I think", ["Pimento"]) == Score(correct=True, answered=True)
    assert score("paraphrase", "I don't know", ["Pimento"]) == Score(correct=False, answered=False)
    # deleted / other-namespace: saying the answer is the failure
    assert score("deleted", "It was plum dumplings", ["plum dumplings"]) == Score(correct=False, answered=True)
    assert score("other-namespace", "I don't know", ["Pimento"]) == Score(correct=True, answered=False)
    # updated: the replaced value next to the new one is still wrong
    assert score("updated", "Brindlewick", ["Brindlewick"], reject=["Quillmere"]) == Score(True, True)
    assert score("updated", "Quillmere, now Brindlewick", ["Brindlewick"], reject=["Quillmere"]) == Score(False, True)
    assert score("unrelated", "Paris.", ["Paris"]) == Score(True, True)


@pytest.mark.parametrize("answer, expect, others, ok", [
    ("Varkaus, Porvoo, Ostrava or Tromsdal", ["Porvoo"], ["Varkaus", "Ostrava", "Tromsdal"], False),  # a list
    ("Porvoo, or maybe Ostrava", ["Porvoo"], ["Ostrava"], False),  # a hedge
    ("Not Porvoo.", ["Porvoo"], [], False),  # negated
    ("He doesn't live in Porvoo.", ["Porvoo"], [], False),
    ("Fasfouth Lanthux is a blue Volga, while Fasfouth Lanthux is a brown Volga.", ["brown Volga"],
     ["blue Volga"], False),
    ("Fasfouth Lanthux drives a brown Volga.", ["brown Volga"], ["blue Volga"], True),
    ("17", ["7"], [], False),  # token boundaries
    ("a million", ["lion"], [], False),
    ("She lives in Porvoo Harbour.", ["Porvoo Harbour"], ["Ostrava"], True),
    ("Porvoo. Not Ostrava.", ["Porvoo"], ["Ostrava"], False),  # another candidate is named, even if denied
])
def test_strict_scoring(answer, expect, others, ok):
    assert score("taught", answer, expect, reject=others).correct is ok


def test_a_leak_is_a_leak_even_when_denied():
    assert score("deleted", "Your pet is not Pimento any more.", ["Pimento"]) == Score(correct=False, answered=True)


def test_the_gate_scores_the_way_the_evaluations_do():
    from consolidation.synth import answer_ok

    assert answer_ok("Lisbon.", "Lisbon") and not answer_ok("Lisbonne", "Lisbon")
    assert not answer_ok("17 cats", "7") and not answer_ok("a million", "lion")
    assert not answer_ok("Varkaus or Lisbon", "Lisbon", others=["Varkaus"])
    assert not answer_ok("Not Lisbon.", "Lisbon")
