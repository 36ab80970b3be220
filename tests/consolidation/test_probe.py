"""The gate's regression probe stays apart from what the trainer rehearses and from what evaluations ask."""

from pathlib import Path

from consolidation.answers import normalize
from consolidation.gate import PROBE, REPLAY
from evals.scenario import load_scenarios

ROOT = Path(__file__).resolve().parents[2]


def test_the_probe_is_large_enough_to_state_a_rule_on():
    assert len(PROBE) >= 100
    assert len({normalize(q) for q, _ in PROBE}) == len(PROBE)  # no question twice


def test_the_trainer_never_rehearses_a_probe_question():
    assert not {normalize(q) for q, _ in PROBE} & {normalize(q) for q in REPLAY}


def test_no_evaluation_asks_a_probe_question():
    asked = {normalize(p.action.question) for sc in load_scenarios([ROOT / "evals/scenarios"]) for p in sc.probes()}
    assert not {normalize(q) for q, _ in PROBE} & asked
