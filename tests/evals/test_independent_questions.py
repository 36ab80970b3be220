"""Evaluation questions are worded apart from every question consolidation trains or validates on (and the
router's centroids average): no bundled probe equals, or normalizes to, a synthesizer question for any fact of
its scenario."""

from datetime import datetime, timezone
from pathlib import Path

import pytest

from agent.extract import extract_first_person
from consolidation.answers import normalize
from consolidation.synth import questions_for
from evals.scenario import Remember, Say, Update, load_scenarios
from memory_service.schemas import Fact

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = load_scenarios([ROOT / "evals/scenarios"])
NOW = datetime.now(timezone.utc)


def scenario_facts(sc) -> list[Fact]:
    """Every fact a scenario writes: remembered ones, what the agent extracts from what is said, updates."""
    facts = []
    for step in sc.steps():
        a = step.action
        if isinstance(a, Remember):
            facts += [Fact(id="x", namespace="n", topic="t", text=f.text, subject=f.subject, relation=f.relation,
                           object=f.object, created_at=NOW) for f in a.facts]
        elif isinstance(a, (Say, Update)):
            text = a.text if isinstance(a, Say) else a.new
            facts += [Fact(id="x", namespace="n", topic="t", created_at=NOW, **{k: v for k, v in e.as_fact().items()
                                                                                if k in ("text", "subject", "relation",
                                                                                         "object")})
                      for e in extract_first_person(text)]
            facts.append(Fact(id="x", namespace="n", topic="t", text=text, created_at=NOW))
    return facts


@pytest.mark.parametrize("sc", SCENARIOS, ids=[sc.name for sc in SCENARIOS])
def test_no_probe_is_a_training_or_validation_question(sc):
    synthesized = {normalize(q) for f in scenario_facts(sc) for q in questions_for(f)}
    assert synthesized  # the check is about something
    clashes = [(p.action.line, p.action.question) for p in sc.probes() if normalize(p.action.question) in synthesized]
    assert not clashes, clashes


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
