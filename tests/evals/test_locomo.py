"""LoCoMo importer on a hand-made two-conversation file in the locomo10.json layout."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.locomo import conversation_to_scenario, date_aliases, import_locomo, main, parse_session_time
from evals.scenario import Advance, Consolidate, Probe, Say, load_scenario

FIXTURE = Path(__file__).parent / "fixtures" / "locomo_mini.json"


def test_import_writes_valid_scenarios(tmp_path):
    paths = import_locomo(FIXTURE, tmp_path)
    assert [p.name for p in paths] == ["locomo-conv-mini-1.yaml", "locomo-conv-mini-2.yaml"]
    first, second = (load_scenario(p) for p in paths)  # validates against the schema

    # three dialogue sessions, then one of consolidation and probes
    assert len(first.sessions) == 4
    says = [t for s in first.sessions[:3] for t in s.turns if isinstance(t, Say)]
    assert len(says) == 7 and says[0].text == "Hi Tobin! I finally moved to Quillmere last week."
    assert says[0].speaker == "Marla" and says[1].speaker == "Tobin"  # "I" is the speaker, not the agent's user
    assert says[0].to == "Tobin" and says[1].to == "Marla"  # and "you" the other one
    assert says[0].at == "2023-05-08T13:56"  # when the session took place: prompts show the day it was said
    assert says[3].text.endswith("[shares a photo: a photo of a ferret on a sofa]")
    # 8 May 13:56 -> 11 May 10:37 -> 13 May 20:00
    assert first.sessions[1].turns[0] == Advance(2 * 86400 + 20 * 3600 + 41 * 60)
    assert first.sessions[2].turns[0] == Advance(2 * 86400 + 9 * 3600 + 23 * 60)
    assert not isinstance(first.sessions[0].turns[0], Advance)

    last = first.sessions[-1].turns
    assert last[0] == Consolidate(None, True)
    probes = [t for t in last if isinstance(t, Probe)]
    assert len(probes) == 3  # categories 4, 1, 2 kept; the adversarial one left out
    assert {p.tag for p in probes} == {"taught"}
    assert probes[2] == Probe("When did Tobin adopt Pimento?", ("10 May 2023",), "taught",
                              aliases=("May 10, 2023", "2023-05-10"), category=2)

    # an unparseable session time: no advance; a numeric answer becomes text
    assert not any(isinstance(t, Advance) for s in second.sessions for t in s.turns)
    assert [step.action.expect for step in second.probes()] == [
        ("tide-gauge engineer",), ("42",), ("every 3 weeks",)]


@pytest.mark.parametrize("categories, counts", [((1, 2, 3, 4), (3, 3)), ((4,), (1, 2)), ((2,), (1, 1)),
                                                ((1, 2, 3, 4, 5), (3, 3))])
def test_probe_count_follows_the_categories_kept(tmp_path, categories, counts):
    paths = import_locomo(FIXTURE, tmp_path, categories=categories)
    assert tuple(len(load_scenario(p).probes()) for p in paths) == counts


def test_adversarial_questions_without_an_answer_are_skipped():
    items = json.loads(FIXTURE.read_text())
    scenario, skipped = conversation_to_scenario(items[0], 0, categories=(1, 2, 3, 4, 5))
    assert skipped == 1  # category 5 has only an adversarial_answer
    assert scenario["name"] == "locomo-conv-mini-1"


def test_max_conversations_and_cli(tmp_path, capsys):
    assert len(import_locomo(FIXTURE, tmp_path / "one", max_conversations=1)) == 1
    main([str(FIXTURE), str(tmp_path / "cli"), "--categories", "4"])
    out = capsys.readouterr().out.split()
    assert len(out) == 2 and len(load_scenario(out[0]).probes()) == 1


def test_bad_layout_is_named(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"qa": []}]))
    with pytest.raises(ValueError, match="item 0: no 'conversation' object"):
        import_locomo(bad, tmp_path / "out")


def test_time_and_date_parsing():
    assert parse_session_time("1:56 pm on 8 May, 2023").isoformat() == "2023-05-08T13:56:00"
    assert parse_session_time("sometime") is None and parse_session_time(None) is None
    assert date_aliases("May 7, 2023") == ["7 May 2023", "2023-05-07"]
    assert date_aliases("the week before") == []


def test_observations_source_writes_the_datasets_facts(tmp_path):
    from evals.scenario import Remember

    paths = import_locomo(FIXTURE, tmp_path, source="observations", samples=("conv-mini-1",))
    assert [p.name for p in paths] == ["locomo-conv-mini-1-observations.yaml"]
    sc = load_scenario(paths[0])
    turns = [t for s in sc.sessions for t in s.turns]
    assert not any(isinstance(t, Say) for t in turns)  # nothing goes through extraction
    written = [[f.text for f in t.facts] for t in turns if isinstance(t, Remember)]
    # session 1's two facts (Tobin has none there), session 3's one; session 2 has no observations
    assert written == [["Marla moved to Quillmere in early May 2023.",
                        "Marla opened a small glassblowing studio by the harbour."],
                       ["Tobin adopted a ferret named Pimento."]]
    assert len(sc.probes()) == 3  # the same questions as the said version


def test_an_unknown_sample_or_source_is_refused(tmp_path):
    with pytest.raises(ValueError, match="no conversation conv-nope"):
        import_locomo(FIXTURE, tmp_path, samples=("conv-nope",))
    with pytest.raises(ValueError, match="source 'dream'"):
        import_locomo(FIXTURE, tmp_path, source="dream")
    # the second conversation has no observation facts at all
    with pytest.raises(ValueError, match="no session_N observations"):
        import_locomo(FIXTURE, tmp_path, source="observations", samples=("conv-mini-2",))
