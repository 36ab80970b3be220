"""The gate's regression probe stays apart from what the trainer rehearses and from what evaluations ask."""

from pathlib import Path

from consolidation.gate import PROBE, READING, REPLAY, reading_items
from evals.scenario import load_scenarios
from language.matching import normalize

ROOT = Path(__file__).resolve().parents[2]


def test_the_probe_is_large_enough_to_state_a_rule_on():
    assert len(PROBE) >= 100
    assert len({normalize(q) for q, _ in PROBE}) == len(PROBE)  # no question twice


def test_the_trainer_never_rehearses_a_probe_question():
    assert not {normalize(q) for q, _ in PROBE} & {normalize(q) for q in REPLAY}


def test_no_evaluation_asks_a_probe_question():
    asked = {normalize(p.action.question) for sc in load_scenarios([ROOT / "evals/scenarios"]) for p in sc.probes()}
    assert not {normalize(q) for q, _ in PROBE} & asked


def test_each_reading_question_comes_with_its_note_among_two_others():
    items = reading_items(len(READING) + 5)
    assert len(items) == len(READING) == len({q for _, q in READING})
    for (note, question), (notes, asked) in zip(READING, items):
        lines = notes.split("\n")
        assert asked == question and note in lines and len(set(lines)) == 3 and set(lines) <= {n for n, _ in READING}
    assert len({notes.split("\n").index(note) for (note, _), (notes, _) in zip(READING, items)}) == 3  # every slot
    asked = {normalize(p.action.question) for sc in load_scenarios([ROOT / "evals/scenarios"]) for p in sc.probes()}
    assert not {normalize(q) for _, q in READING} & (asked | {normalize(q) for q, _ in PROBE})


def test_replay_rehearses_the_base_models_own_reading_of_notes(tiny_base):
    from consolidation.model import generate
    from consolidation.run import replay_examples

    got = replay_examples(tiny_base, 2, reading=3)
    plain, noted = [qa for qa in got if not qa.context], [qa for qa in got if qa.context]
    assert [qa.question for qa in plain] == REPLAY[:len(plain)] and 0 < len(noted) <= 3
    assert all(qa.kind == "replay" for qa in got)
    items = dict((q, n) for n, q in reading_items(3))
    for qa in noted:
        assert qa.context == items[qa.question]
        assert [qa.answer] == generate(tiny_base.model, tiny_base.tokenizer, [qa.question], context=[qa.context])
