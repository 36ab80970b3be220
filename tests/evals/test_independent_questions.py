"""Evaluation questions are worded apart from every question consolidation trains or validates on (and the
router's centroids average): no bundled probe equals, or normalizes to, a synthesizer question for any fact of
its scenario."""

from datetime import datetime, timezone
from pathlib import Path

import pytest

from consolidation.synth import build_dataset, questions_for
from evals.scenario import Remember, Say, Update, load_scenarios
from language.intake import read_message
from language.matching import normalize
from memory_service.schemas import Fact

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = load_scenarios([ROOT / "evals/scenarios"])
NOW = datetime.now(timezone.utc)


def scenario_facts(sc) -> list[Fact]:
    """Every fact a scenario writes: remembered ones, and what is said (or updated): each statement and the facts
    intake reads from it, linked as the service links them."""
    facts = []
    for step in sc.steps():
        a = step.action
        if isinstance(a, Remember):
            facts += [Fact(id=f"r{len(facts)}", namespace="n", topic="t", text=f.text, subject=f.subject,
                           relation=f.relation, object=f.object, created_at=NOW) for f in a.facts]
        elif isinstance(a, (Say, Update)):
            text, speaker = (a.text, a.speaker) if isinstance(a, Say) else (a.new, "user")
            for sentence in read_message(text, speaker).statements:
                sid = f"s{len(facts)}"
                facts.append(Fact(id=sid, namespace="n", topic="t", text=sentence.text, speaker=speaker,
                                  created_at=NOW))
                facts += [Fact(id=f"f{len(facts)}", namespace="n", topic="t", text=t.text, subject=t.subject,
                               relation=t.relation, object=t.object, derived_from=sid, created_at=NOW)
                          for t in sentence.triples]
    return facts


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
