"""Scenarios: scripted dialogues with probe questions, loaded from YAML and checked against scenario.schema.json.

A scenario file is validated as a whole before anything is built, and the first error (in file order) is raised
as a ScenarioError naming the file, line, column and field, e.g.
`scenarios/x.yaml:14:9: sessions[0].turns[3].probe.tag: 'foo' is not one of [...]`.
The format is described in evals/README.md.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import jsonschema
import yaml

from .yaml_lines import DuplicateKey, load_with_positions, position_of

SCHEMA_PATH = Path(__file__).with_name("scenario.schema.json")

# taught: asked as stated; paraphrase: asked another way; updated: the newest value after an update;
# deleted / other-namespace: the answer must NOT appear; unrelated: general questions, compared with mode none.
TAGS = ("taught", "paraphrase", "updated", "deleted", "other-namespace", "unrelated")
DEFAULT_NAMESPACE = "default"  # a runner scopes namespaces per scenario, so scenarios never share one


# --- the model -------------------------------------------------------------------------------------------------
# Every turn records the line it was written on, so a runner can say where a failing step came from.


@dataclass(frozen=True)
class Say:
    text: str  # the message; the agent keeps every statement in it and reads facts from them
    line: int = field(default=0, compare=False)
    speaker: str = "user"  # or a named speaker of a transcript ("Caroline"): "I" is then that speaker
    at: str | None = None  # when it was said (ISO time), for a transcript with dates
    to: str | None = None  # whom a transcript's speaker talks to: "you" is then that person


@dataclass(frozen=True)
class FactSpec:
    text: str
    topic: str | None = None
    subject: str | None = None
    relation: str | None = None
    object: str | None = None


@dataclass(frozen=True)
class Remember:
    facts: tuple[FactSpec, ...]  # written straight to the memory service, no extraction
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Probe:
    question: str
    expect: tuple[str, ...]  # answers to look for; for deleted/other-namespace, answers that must not appear
    tag: str
    aliases: tuple[str, ...] = ()  # other spellings that count like `expect`
    reject: tuple[str, ...] = ()  # answers that make the probe wrong even next to a right one (a stale value)
    topic: str | None = None  # the topic the router should pick, for routing accuracy
    category: int | None = None  # a LoCoMo question's category (1-5): scored with its token F1 too
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Advance:
    seconds: float  # how far the clock moves (heat decays, max_wait elapses)
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Consolidate:
    topics: tuple[str, ...] | None = None  # None: every topic of the current namespace
    wait: bool = True
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Delete:
    target: str  # a fact id, or text that the runner resolves to the nearest active fact
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Update:
    old: str  # a fact id or text, as for Delete
    new: str
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class SwitchNamespace:
    namespace: str
    line: int = field(default=0, compare=False)


Turn = Say | Remember | Probe | Advance | Consolidate | Delete | Update | SwitchNamespace


@dataclass(frozen=True)
class Session:
    namespace: str  # the session's starting namespace (the scenario's unless the session names one)
    turns: tuple[Turn, ...]
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    namespace: str  # where every session starts unless it names its own; DEFAULT_NAMESPACE if unset
    sessions: tuple[Session, ...]
    path: str = ""

    def steps(self) -> Iterator[Step]:
        """Every turn with its indices, the namespace in force and how many statements came before it."""
        statements = 0
        for s, session in enumerate(self.sessions):
            namespace = session.namespace
            for t, turn in enumerate(session.turns):
                if isinstance(turn, SwitchNamespace):
                    namespace = turn.namespace
                yield Step(s, t, namespace, turn, statements)
                if isinstance(turn, (Say, Update)):  # an update states its new fact
                    statements += 1
                elif isinstance(turn, Remember):
                    statements += len(turn.facts)

    def probes(self) -> list[Step]:
        return [step for step in self.steps() if isinstance(step.action, Probe)]


@dataclass(frozen=True)
class Step:
    session: int  # 0-based indices, as in error paths and ProbeResult
    turn: int
    namespace: str  # the namespace in force for this turn
    action: Turn
    statements_before: int  # say turns, remembered facts and updates before this turn: the dialogue length so far


# --- durations -------------------------------------------------------------------------------------------------

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)([smhdw])")


def parse_duration(value: float | int | str) -> float:
    """Seconds from a number of seconds or a duration such as '90s', '15m', '3d', '1d12h'."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"negative duration {value!r}")
        return float(value)
    if not isinstance(value, str) or not re.fullmatch(r"(?:[0-9]+(?:\.[0-9]+)?[smhdw])+", value):
        raise ValueError(f"not a duration: {value!r} (use seconds or e.g. '90s', '15m', '3d', '1d12h')")
    return float(sum(float(n) * _UNITS[u] for n, u in _PART.findall(value)))


def format_duration(seconds: float) -> str:
    """The shortest whole-unit spelling ('3d', '1d12h', '45s'); parse_duration(format_duration(x)) == round(x)."""
    rest = int(round(seconds))
    if rest == 0:
        return "0s"
    parts = []
    for unit in ("d", "h", "m", "s"):  # no weeks: '10d' reads better than '1w3d'
        n, rest = divmod(rest, _UNITS[unit])
        if n:
            parts.append(f"{n}{unit}")
    return "".join(parts)


# --- loading ---------------------------------------------------------------------------------------------------


class ScenarioError(ValueError):
    """A scenario file that cannot be used; str() is `path:line:column: field: message`."""

    def __init__(self, path: str, line: int, column: int, field: str, message: str):
        self.path, self.line, self.column, self.field, self.message = str(path), line, column, field, message
        where = f"{self.path}:{line}:{column}"
        super().__init__(f"{where}: {field}: {message}" if field else f"{where}: {message}")


@cache
def schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema())


def field_name(path: tuple) -> str:
    """('sessions', 0, 'turns', 3, 'probe') -> 'sessions[0].turns[3].probe'."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _short(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _describe(error: jsonschema.ValidationError) -> tuple[tuple, str]:
    """(path of the offending value, message); points at the key itself for unknown and missing keys."""
    path = tuple(error.absolute_path)
    hint = error.schema.get("errorMessage") if isinstance(error.schema, dict) else None
    instance = error.instance
    if error.validator == "additionalProperties" and isinstance(instance, dict):
        unknown = [k for k in instance if k not in error.schema.get("properties", {})]
        path = (*path, unknown[0])
        return path, f"unknown key {unknown[0]!r}" + (f"; {hint}" if hint else "")
    if error.validator == "required" and isinstance(instance, dict):
        missing = next(k for k in error.validator_value if k not in instance)
        return (*path, missing), "required but missing"
    if error.validator == "maxProperties" and isinstance(instance, dict) and hint:
        return path, f"found {', '.join(map(str, instance))}; {hint}"
    if hint:
        return path, f"{_short(instance)}: {hint}"
    return path, error.message if len(error.message) <= 300 else error.message[:297] + "..."


def _first_error(data: object, positions: dict, path: str) -> ScenarioError | None:
    found = []
    for error in _validator().iter_errors(data):
        where, message = _describe(error)
        line, column = position_of(where, positions)
        found.append(((line, column), field_name(where) or "scenario", message))
    if not found:
        return None
    found.sort(key=lambda f: f[0])
    (line, column), name, message = found[0]
    if len(found) > 1:
        message += f" (and {len(found) - 1} more error{'s' if len(found) > 2 else ''})"
    return ScenarioError(path, line, column, name, message)


def _build_turn(raw: dict, line: int) -> Turn:
    (kind, value), = raw.items()  # the schema allows exactly one key
    if kind == "say":
        if isinstance(value, dict):
            return Say(value["text"], line=line, speaker=value["speaker"], at=value.get("at"), to=value.get("to"))
        return Say(value, line=line)
    if kind == "remember":
        return Remember(tuple(FactSpec(**fact) for fact in value), line=line)
    if kind == "probe":
        lists = {k: tuple(value[k]) for k in ("expect", "aliases", "reject") if k in value}
        return Probe(**{**value, **lists}, line=line)
    if kind == "advance":
        return Advance(parse_duration(value), line=line)
    if kind == "consolidate":
        topics = tuple(value["topics"]) if "topics" in value else None
        return Consolidate(topics, value.get("wait", True), line=line)
    if kind == "delete":
        return Delete(value, line=line)
    if kind == "update":
        return Update(value["old"], value["new"], line=line)
    return SwitchNamespace(value, line=line)


def parse_scenario(text: str, path: str = "<string>") -> Scenario:
    """Validate and build a scenario from YAML text; raises ScenarioError."""
    try:
        data, positions = load_with_positions(text)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise ScenarioError(path, line, column, "", f"YAML: {e.problem or e.context}") from None
    except DuplicateKey as e:
        raise ScenarioError(path, *e.position, field_name(e.path), str(e)) from None
    if data is None:
        raise ScenarioError(path, 1, 1, "", "empty file")
    error = _first_error(data, positions, path)
    if error:
        raise error

    def line_of(*where: str | int) -> int:
        return position_of(where, positions)[0]

    namespace = data.get("namespace", DEFAULT_NAMESPACE)
    sessions = tuple(
        Session(
            session.get("namespace", namespace),
            tuple(_build_turn(turn, line_of("sessions", s, "turns", t)) for t, turn in enumerate(session["turns"])),
            line=line_of("sessions", s),
        )
        for s, session in enumerate(data["sessions"])
    )
    return Scenario(data["name"], data["description"], namespace, sessions, path)


def load_scenario(path: str | Path) -> Scenario:
    """Read, validate and build one scenario file; raises ScenarioError (OSError if unreadable)."""
    return parse_scenario(Path(path).read_text(encoding="utf-8"), str(path))


def load_scenarios(paths: list[str | Path]) -> list[Scenario]:
    """Files and folders (every *.yaml / *.yml inside, sorted); names must be unique across them."""
    files: list[Path] = []
    for p in map(Path, paths):
        files += sorted([*p.glob("*.yaml"), *p.glob("*.yml")]) if p.is_dir() else [p]
    scenarios, seen = [], {}
    for f in files:
        scenario = load_scenario(f)
        if scenario.name in seen:
            raise ScenarioError(str(f), 1, 1, "name", f"{scenario.name!r} is also the name of {seen[scenario.name]}")
        seen[scenario.name] = f
        scenarios.append(scenario)
    return scenarios
