"""Evaluation questions are worded apart from every question consolidation trains or validates on (and the
router's centroids average), by meaning (evals.disjoint): no bundled probe says a synthesizer question's words in
another order, nor is it within NEAR of one with the names masked, for any fact of its scenario."""

from pathlib import Path

import pytest

from bench.disjoint import synthesized_for
from consolidation.synth import questions_for
from evals.disjoint import NEAR, clashes, frame, names_in, wording
from evals.scenario import Remember, load_scenarios
from evals.written import scenario_facts
from language.matching import normalize

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = load_scenarios([ROOT / "evals/scenarios"])


@pytest.mark.parametrize("sc", SCENARIOS, ids=[sc.name for sc in SCENARIOS])
def test_no_probe_is_a_training_or_validation_question_in_other_words(sc, embedder):
    synthesized = synthesized_for(scenario_facts(sc))
    assert synthesized  # the check is about something
    found = clashes([p.action.question for p in sc.probes()], synthesized, embedder.embed)
    assert not found, found


@pytest.mark.parametrize("probe, trained", [
    ("Jilbror Fonlix plays which instrument?", "Which instrument does Jilbror Fonlix play?"),  # word order
    ("Where do we go skiing every winter?", "Every winter we go skiing where?"),
    ("What's my dad's name?", "What is the name of my dad?"),  # contraction, possessive
    ("And which instrument does Ann Voss play, then?", "Which instrument does Ann Voss play?"),  # fillers
])
def test_an_echo_of_a_trained_question_is_caught(probe, trained, embedder):
    assert clashes([probe], [trained, "Where does Bo Lund work?"], embedder.embed)


@pytest.mark.parametrize("probe, trained", [
    ("On which instrument does Jilbror Fonlix perform?", "Which instrument does Jilbror Fonlix play?"),
    ("What's Jorund's sister called?", "What is the name of Jorund's sister?"),
    ("Which town is Rowenna based in?", "In which city does Rowenna live?"),
    ("What does Uncle Anselm do?", "What does Gran Nessa do?"),  # about someone else: never an echo
])
def test_a_question_worded_apart_passes(probe, trained, embedder):
    assert not clashes([probe], [trained], embedder.embed)


def test_names_are_masked_only_where_they_are_names():
    assert names_in("Which instrument does Jilbror Fonlix play?") == {"Jilbror", "Fonlix"}
    assert frame("Jilbror Fonlix plays which instrument?", {"Jilbror", "Fonlix"}) == "someone plays which instrument?"
    assert wording("Jilbror plays which instrument?") == wording("Which instrument does Jilbror play?")
    assert 0.9 < NEAR < 1


def test_the_check_catches_a_trained_wording():
    sc = next(s for s in SCENARIOS if s.name == "smoke")
    fact = next(f for f in scenario_facts(sc) if f.relation == "lives in")
    assert normalize(f"where does {fact.subject} live") in {normalize(q) for q in questions_for(fact)}


def test_a_bundled_scenario_mixes_relations_and_people_across_topics():
    sc = next(s for s in SCENARIOS if s.name == "mixed")
    facts = [(f.topic, f.subject, f.relation) for st in sc.steps() if isinstance(st.action, Remember)
             for f in st.action.facts]
    topics_of_person: dict[str, set] = {}
    relations_of_topic: dict[str, set] = {}
    for topic, subject, relation in facts:
        topics_of_person.setdefault(subject, set()).add(topic)
        relations_of_topic.setdefault(topic, set()).add(relation)
    assert all(len(r) > 1 for r in relations_of_topic.values())
    assert sum(len(t) > 1 for t in topics_of_person.values()) >= 4
