"""Evaluation questions are worded apart from every question consolidation trains or validates on (and the
router's centroids average): no bundled probe equals, or normalizes to, a synthesizer question for any fact of
its scenario."""

from pathlib import Path

import pytest

from consolidation.synth import build_dataset, questions_for
from evals.scenario import Remember, load_scenarios
from evals.written import scenario_facts
from memory_service.schemas import Fact
from language.matching import normalize

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = load_scenarios([ROOT / "evals/scenarios"])


_CONTRACTIONS = {"what's": "what is", "who's": "who is", "where's": "where is", "when's": "when is",
                 "how's": "how is", "what're": "what are", "i'm": "i am", "don't": "do not", "doesn't": "does not"}


def wording(question: str) -> str:
    """normalize() with contractions spelled out: "What's the name of X's band?" is "What is the name of ..."."""
    words = [_CONTRACTIONS.get(w, w) for w in question.lower().replace("’", "'").split()]
    return normalize(" ".join(words))


def trained_and_validated(facts: list[Fact]) -> set[str]:
    ds = build_dataset(facts, taught_forms=3, augment=True)  # augmentation's forms are trained too
    return {wording(qa.question) for qa in ds.train + ds.validation} | {
        wording(q) for f in facts if f.subject and f.relation for q in questions_for(f)}


@pytest.mark.parametrize("sc", SCENARIOS, ids=[sc.name for sc in SCENARIOS])
def test_no_probe_is_a_training_or_validation_question(sc):
    synthesized = trained_and_validated(scenario_facts(sc))
    assert synthesized  # the check is about something
    clashes = [(p.action.line, p.action.question) for p in sc.probes() if wording(p.action.question) in synthesized]
    assert not clashes, clashes


def test_the_check_reads_a_contraction_as_the_words_it_stands_for():
    assert wording("What's the name of Fennimore's band?") == wording("What is the name of Fennimore's band?")


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
