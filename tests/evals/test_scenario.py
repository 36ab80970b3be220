"""Scenario loading: good files build the model, bad ones fail naming the file, line, column and field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import jsonschema
import pytest

from evals.scenario import (
    TAGS, Advance, Consolidate, Delete, Probe, Remember, Say, ScenarioError, SwitchNamespace, Update,
    format_duration, load_scenario, load_scenarios, parse_duration, parse_scenario, schema,
)
from memory_service.schemas import NAMESPACE_RE, TOPIC_RE

SCENARIOS = Path(__file__).resolve().parents[2] / "evals" / "scenarios"

HEADER = "name: x\ndescription: d\nsessions:\n  - turns:\n"  # turns start on line 5


def scenario_text(turns: str) -> str:
    return HEADER + textwrap.indent(textwrap.dedent(turns), "      ")


# (turn lines written from line 5, line, column, field, a piece of the message)
MALFORMED = [
    ("""\
     - say: hi
     - probe:
         question: Where?
         expect: [Lisbon]
         tag: foo
     """, 9, 11, "sessions[0].turns[1].probe.tag", "'foo' is not one of ['taught'"),
    ("""\
     - probe:
         question: Where?
         tag: taught
     """, 5, 9, "sessions[0].turns[0].probe.expect", "required but missing"),
    ("""\
     - say: hi
     - sya: hello
     """, 6, 9, "sessions[0].turns[1].sya", "unknown key 'sya'; a turn has exactly one key"),
    ("""\
     - say: hi
       advance: 3d
     """, 5, 9, "sessions[0].turns[0]", "found say, advance; a turn has exactly one key"),
    ("""\
     - advance: 3 days
     """, 5, 9, "sessions[0].turns[0].advance", "'3 days': advance is seconds"),
    ("""\
     - advance: -5
     """, 5, 9, "sessions[0].turns[0].advance", "-5: advance is seconds"),
    ("""\
     - remember:
         - {text: Marla plays the cello., topic: Music!}
     """, 6, 44, "sessions[0].turns[0].remember[0].topic", "a topic is a slug"),
    ("""\
     - remember: []
     """, 5, 9, "sessions[0].turns[0].remember", "should be non-empty"),
    ("""\
     - consolidate: {wait: later}
     """, 5, 23, "sessions[0].turns[0].consolidate.wait", "'later' is not of type 'boolean'"),
    ("""\
     - namespace: "bob smith"
     """, 5, 9, "sessions[0].turns[0].namespace", "'bob smith': a namespace is"),
    ("""\
     - update: {old: Lisbon}
     """, 5, 9, "sessions[0].turns[0].update.new", "required but missing"),
    ("""\
     - probe:
         question: Where?
         expect: []
         tag: taught
     """, 7, 11, "sessions[0].turns[0].probe.expect", "should be non-empty"),
    ("""\
     - hello
     """, 5, 9, "sessions[0].turns[0]", "'hello': a turn has exactly one key"),
    ("""\
     - probe:
         question: Where?
         question: When?
     """, 7, 11, "sessions[0].turns[0].probe.question", "duplicate key 'question'"),
]


@pytest.mark.parametrize("turns, line, column, field, message", MALFORMED)
def test_malformed_turn_names_line_column_and_field(turns, line, column, field, message):
    text = scenario_text(turns)
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, "scenarios/x.yaml")
    e = caught.value
    assert (e.path, e.line, e.column, e.field) == ("scenarios/x.yaml", line, column, field), text
    assert message in e.message
    assert str(e).startswith(f"scenarios/x.yaml:{line}:{column}: {field}: ")


def test_top_level_mistakes():
    with pytest.raises(ScenarioError) as caught:
        parse_scenario("name: x\ndescription: d\n", "s.yaml")
    assert (caught.value.line, caught.value.field, caught.value.message) == (1, "sessions", "required but missing")

    with pytest.raises(ScenarioError) as caught:
        parse_scenario("name: My Scenario\ndescription: d\nsessions:\n  - turns: [{say: hi}]\n", "s.yaml")
    assert (caught.value.line, caught.value.column, caught.value.field) == (1, 1, "name")  # the key's place

    with pytest.raises(ScenarioError) as caught:
        parse_scenario(HEADER + "      - say: hi\n  - namespace: x\n", "s.yaml")  # a session without turns
    assert (caught.value.line, caught.value.field) == (6, "sessions[1].turns")

    with pytest.raises(ScenarioError) as caught:
        parse_scenario("", "s.yaml")
    assert str(caught.value) == "s.yaml:1:1: empty file"


def test_yaml_syntax_error_names_the_line():
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(HEADER + "      - say: [unclosed\n      - say: hi\n", "s.yaml")
    assert caught.value.line == 6 and caught.value.message.startswith("YAML: ")


def test_first_error_in_file_order_and_the_rest_counted():
    text = scenario_text("""\
        - probe: {question: q, expect: [a], tag: bad}
        - advance: soon
        """)
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, "s.yaml")
    assert caught.value.line == 5 and caught.value.field == "sessions[0].turns[0].probe.tag"
    assert caught.value.message.endswith("(and 1 more error)")


def test_every_turn_kind_builds():
    text = scenario_text("""\
        - say: I live in Quillmere.
        - remember:
            - {text: Marla plays the cello., topic: music, subject: Marla, relation: instrument, object: cello}
        - probe: {question: "Where?", expect: [Quillmere], aliases: [Quilmere], tag: paraphrase, topic: home}
        - advance: 1d12h
        - advance: 90
        - consolidate: {topics: [music]}
        - consolidate: {wait: false}
        - delete: Marla plays the cello.
        - update: {old: I live in Quillmere., new: I live in Porvoo.}
        - namespace: bob
        """)
    s = parse_scenario(text)
    turns = s.sessions[0].turns
    assert s.namespace == "default" and s.sessions[0].namespace == "default"
    assert turns[0] == Say("I live in Quillmere.")
    assert isinstance(turns[1], Remember) and turns[1].facts[0].relation == "instrument"
    assert turns[2] == Probe("Where?", ("Quillmere",), "paraphrase", aliases=("Quilmere",), topic="home")
    assert turns[3] == Advance(129600.0) and turns[4] == Advance(90.0)
    assert turns[5] == Consolidate(("music",), True) and turns[6] == Consolidate(None, False)
    assert turns[7] == Delete("Marla plays the cello.")
    assert turns[8] == Update("I live in Quillmere.", "I live in Porvoo.")
    assert turns[9] == SwitchNamespace("bob")
    assert [t.line for t in turns] == [5, 6, 8, 9, 10, 11, 12, 13, 14, 15]


def test_steps_follow_namespace_switches_and_count_statements():
    s = load_scenario(Path(__file__).parent / "fixtures" / "basics.yaml")
    probes = s.probes()
    assert [p.action.tag for p in probes] == [
        "taught", "taught", "paraphrase", "taught", "updated", "deleted", "unrelated", "other-namespace", "taught"]
    assert probes[0].statements_before == 5  # three say turns and two remembered facts
    assert probes[4].statements_before == 6  # ... and the update
    assert (probes[-2].namespace, probes[-1].namespace) == ("bob", "marla")
    assert (probes[-1].session, probes[-1].turn) == (3, 2)


def test_shipped_scenarios_load():
    assert load_scenarios([SCENARIOS])


def test_duplicate_scenario_names_rejected(tmp_path):
    for f in ("a.yaml", "b.yaml"):
        (tmp_path / f).write_text(scenario_text("- say: hi\n"))
    with pytest.raises(ScenarioError, match="also the name of"):
        load_scenarios([tmp_path])


@pytest.mark.parametrize("text, seconds", [("90s", 90), ("15m", 900), ("3d", 259200), ("1d12h", 129600),
                                           ("1w", 604800), ("0.5h", 1800), (42, 42)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds
    assert parse_duration(format_duration(seconds)) == seconds


def test_format_duration_spelling():
    assert [format_duration(s) for s in (0, 45, 3600, 246060, 10 * 86400)] == ["0s", "45s", "1h", "2d20h21m", "10d"]
    with pytest.raises(ValueError):
        parse_duration("3 days")


def test_schema_agrees_with_the_code():
    jsonschema.Draft202012Validator.check_schema(schema())
    defs = schema()["$defs"]
    assert defs["probe"]["properties"]["tag"]["enum"] == list(TAGS)
    # the runner sends these strings to the memory service, which checks them with its own patterns
    assert defs["namespace"]["pattern"] == NAMESPACE_RE.pattern
    assert defs["topic"]["pattern"] == TOPIC_RE.pattern


def test_the_documented_example_is_valid():
    readme = (SCENARIOS.parent / "README.md").read_text()
    example = readme.split("```yaml\n", 1)[1].split("```", 1)[0]
    s = parse_scenario(example, "README.md")
    assert [p.namespace for p in s.probes()] == ["marla", "bob"]
