"""Every fact a scenario writes, as the service would store it (for checks that compare probes with what is
trained: tests/evals/test_independent_questions.py, bench.disjoint)."""

from __future__ import annotations

from datetime import datetime, timezone

from language.intake import read_message
from memory_service.schemas import Fact

from .scenario import Remember, Say, Update

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
