"""A failing turn stops its own scenario only: it is recorded with its file, line and reason, and the facts
written before it stay. Real service on the real Redis and Qdrant Edge; no model, no worker needed."""

from __future__ import annotations

from evals.runner import FailedStep, play
from evals.scenario import load_scenario

SCENARIO = """\
name: broken
description: A delete that matches nothing.
namespace: ana
sessions:
  - turns:
      - remember:
          - {text: "The user drives a red Halvik coupe.", topic: cars, subject: the user, relation: car,
             object: red Halvik coupe}
          - {text: "Marla Quenby lives in Lisbon.", topic: homes}
      - delete: "I drive a red Halvik coupe."
      - delete: "Somebody owns a submarine called Vorn."
      - remember:
          - {text: "Never written.", topic: homes}
      - advance: 1d
"""


def test_a_failed_turn_is_recorded_and_the_rest_skipped(tmp_path, harness):
    path = tmp_path / "broken.yaml"
    path.write_text(SCENARIO)
    sc = load_scenario(path)
    seen = []
    results, failed = play(harness, sc, ["rag"], timeout_s=5, on_step=seen.append)
    assert results == [] and len(seen) == len(list(sc.steps()))  # skipped steps still advance the progress
    assert isinstance(failed, FailedStep)
    assert (failed.path, failed.line, failed.action) == (str(path), 11, "delete")
    assert "submarine" in failed.reason and failed.skipped_steps == 2
    assert str(failed).startswith(f"{path}:11: delete failed")
    ns = "broken.ana"
    texts = sorted(f.text for f in harness.svc.all_active(ns))
    # the delete in the user's own words found the stored statement; nothing after the failure was written
    assert texts == ["Marla Quenby lives in Lisbon."]


def test_consolidating_a_namespace_without_facts_is_a_failed_step(tmp_path, harness):
    path = tmp_path / "empty.yaml"
    path.write_text("name: empty\ndescription: Nothing to consolidate.\nnamespace: ben\nsessions:\n  - turns:\n      - consolidate: {wait: true}\n")
    results, failed = play(harness, load_scenario(path), ["rag"], timeout_s=5)
    assert results == [] and failed is not None
    assert (failed.line, failed.action, failed.skipped_steps) == (6, "consolidate", 0)
    assert "no facts" in failed.reason


def test_the_other_candidates_of_a_probe_come_from_the_namespace(harness):
    from memory_service.schemas import FactIn

    ns = "ana"
    lives = lambda s, o: FactIn(text=f"{s} lives in {o}.", subject=s, relation="lives in", object=o,  # noqa: E731
                                topic="homes")
    harness.svc.write(ns, [lives("Marla Quenby", "Porvoo"), lives("Ines Vahl", "Ostrava"),
                           lives("Oren Kast", "Porvoo Harbour"),
                           FactIn(text="Marla Quenby's pet is Mochi.", subject="Marla Quenby", relation="pet",
                                  object="Mochi", topic="homes")])
    harness.svc.write(ns, [lives("Ines Vahl", "Tromsdal")])  # supersedes Ostrava: the old value still counts
    assert sorted(harness.rivals(ns, ["Porvoo"])) == ["Ostrava", "Tromsdal"]  # not "Porvoo Harbour", not "Mochi"
    assert harness.rivals(ns, ["Mochi"]) == []
    assert harness.rivals("nobody", ["Porvoo"]) == []
