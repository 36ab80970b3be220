"""LoCoMo importer: one scenario file per conversation of `locomo10.json` (snap-research/LoCoMo).

    python -m evals.locomo data/locomo10.json evals/scenarios/locomo --categories 1,2,3,4 [--source observations]

Each session's turns become `say` turns attributed to their speaker ({speaker, text, at}), or with
`--source observations` the dataset's own `observation` facts of that session become one `remember` turn
(written through the API, no extraction: it separates what the agent extracts from what consolidation makes of
given facts). The clock advances between sessions by the gap between their `session_N_date_time`s, and after
the last session the memory is consolidated and every kept
question becomes a `taught` probe. QA categories: 1 multi-hop, 2 temporal, 3 open-domain, 4 single-hop,
5 adversarial (it has no gold `answer`, only an `adversarial_answer`, and is left out by default; any question
without an `answer` is skipped). Scoring is by answer span (evals.scoring), stricter than the LLM judge of
published LoCoMo numbers, so the two are not directly comparable.
"""

from __future__ import annotations

import argparse
import json
import re
from datetime import datetime
from pathlib import Path

import yaml

from .scenario import format_duration, parse_scenario

CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop", 5: "adversarial"}
# "1:56 pm on 8 May, 2023" is how locomo10.json writes session times; the others are cheap fallbacks.
_SESSION_TIME_FORMATS = ("%I:%M %p on %d %B, %Y", "%I:%M %p on %d %b, %Y", "%I:%M %p on %B %d, %Y",
                         "%d %B, %Y", "%d %B %Y")
_ANSWER_DATE_FORMATS = ("%d %B %Y", "%d %B, %Y", "%B %d, %Y", "%B %d %Y")


def parse_session_time(text: object) -> datetime | None:
    if not isinstance(text, str):
        return None
    for fmt in _SESSION_TIME_FORMATS:
        try:
            return datetime.strptime(text.strip(), fmt)
        except ValueError:
            continue
    return None


def date_aliases(answer: str) -> list[str]:
    """Other spellings of a date answer ("7 May 2023" -> "May 7, 2023", "2023-05-07"): span matching is
    order-sensitive, and temporal questions are answered in any of these forms."""
    for fmt in _ANSWER_DATE_FORMATS:
        try:
            day = datetime.strptime(answer.strip(), fmt)
        except ValueError:
            continue
        forms = [f"{day.day} {day:%B %Y}", f"{day:%B} {day.day}, {day.year}", f"{day:%Y-%m-%d}"]
        return [f for f in forms if f != answer.strip()]
    return []


def _sessions(conversation: dict) -> list[tuple[int, list[dict], datetime | None]]:
    """(N, turns, time) for every non-empty `session_N`, in order of N."""
    out = []
    for key, turns in conversation.items():
        if (m := re.fullmatch(r"session_(\d+)", key)) and isinstance(turns, list) and turns:
            n = int(m.group(1))
            out.append((n, turns, parse_session_time(conversation.get(f"session_{n}_date_time"))))
    return sorted(out, key=lambda s: s[0])


def _say(turn: dict, when: datetime | None = None, pair: tuple[str, str] | None = None) -> dict | None:
    """A turn as said by its speaker ("I" is that speaker, not the user of the agent), at the session's time,
    to the other of the conversation's `pair` ("you" is them)."""
    text = str(turn.get("text") or "").strip()
    if caption := str(turn.get("blip_caption") or "").strip():  # a shared photo: its caption is what was "said"
        text = f"{text} [shares a photo: {caption}]".strip()
    out = {"speaker": str(turn.get("speaker") or "?"), "text": text}
    if pair and out["speaker"] in pair and pair[0] != pair[1]:
        out["to"] = pair[1] if out["speaker"] == pair[0] else pair[0]
    if when is not None:
        out["at"] = when.isoformat(timespec="minutes")
    return out if text else None


SOURCES = ("say", "observations")


def _observations(item: dict, n: int) -> list[dict]:
    """The `observation` facts of session n as scenario facts: [{"text": ...}] (each entry is [text, dia_id])."""
    by_speaker = (item.get("observation") or {}).get(f"session_{n}_observation") or {}
    return [{"text": str(entry[0]).strip()} for entries in by_speaker.values() for entry in entries
            if isinstance(entry, list) and entry and str(entry[0]).strip()]


def conversation_to_scenario(item: dict, index: int, categories=(1, 2, 3, 4), source: str = "say") -> tuple[dict, int]:
    """(scenario data, questions skipped) for one locomo10.json item; the data dumps to a valid scenario."""
    if source not in SOURCES:
        raise ValueError(f"source {source!r}: one of {', '.join(SOURCES)}")
    if not isinstance(item.get("conversation"), dict):
        raise ValueError(f"item {index}: no 'conversation' object")
    conversation = item["conversation"]
    sample = re.sub(r"[^a-z0-9_.-]+", "-", str(item.get("sample_id", index)).lower()).strip("-") or str(index)
    sessions, previous = [], None
    for n, turns, when in _sessions(conversation):
        session_turns: list[dict] = []
        if previous and when and when > previous:
            session_turns.append({"advance": format_duration((when - previous).total_seconds())})
        previous = when or previous
        if source == "say":
            pair = (str(conversation.get("speaker_a")), str(conversation.get("speaker_b")))
            session_turns += [{"say": said} for said in (_say(t, when, pair) for t in turns) if said]
        elif facts := _observations(item, n):
            session_turns.append({"remember": facts})
        if session_turns:
            sessions.append({"turns": session_turns})
    probes, skipped = [], 0
    for qa in item.get("qa", []):
        if qa.get("category") not in categories or qa.get("answer") in (None, ""):
            skipped += 1
            continue
        answer = str(qa["answer"]).strip()
        probe = {"question": str(qa["question"]), "expect": [answer], "tag": "taught", "category": qa["category"]}
        if aliases := date_aliases(answer):
            probe["aliases"] = aliases
        probes.append({"probe": probe})
    if not any(t for s in sessions for t in s["turns"] if "advance" not in t):
        raise ValueError(f"item {index} ({sample}): no session_N {'turns' if source == 'say' else 'observations'}")
    dialogue_sessions = len(sessions)
    if probes:
        sessions.append({"turns": [{"consolidate": {"wait": True}}, *probes]})
    speakers = f"{conversation.get('speaker_a', '?')} and {conversation.get('speaker_b', '?')}"
    kept = ", ".join(CATEGORIES.get(c, str(c)) for c in sorted(categories))
    scenario = {
        "name": f"locomo-{sample}{'' if source == 'say' else '-observations'}"[:64],
        "description": f"LoCoMo conversation {sample} between {speakers}: {dialogue_sessions} sessions "
                       f"({'said turn by turn' if source == 'say' else 'its observation facts written'}), "
                       f"{len(probes)} questions (kept categories: {kept}).",
        "sessions": sessions,
    }
    return scenario, skipped


def import_locomo(json_path: str | Path, out_dir: str | Path, categories=(1, 2, 3, 4),
                  max_conversations: int | None = None, source: str = "say",
                  samples: tuple[str, ...] = ()) -> list[Path]:
    """Write one scenario YAML per conversation into out_dir (each checked by the scenario loader); returns
    the paths written."""
    items = json.loads(Path(json_path).read_text(encoding="utf-8"))
    if not isinstance(items, list):
        raise ValueError(f"{json_path}: expected a list of conversations, got {type(items).__name__}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    chosen = [(i, item) for i, item in enumerate(items) if not samples or item.get("sample_id") in samples]
    if missing := set(samples) - {item.get("sample_id") for _, item in chosen}:
        raise ValueError(f"{json_path}: no conversation {', '.join(sorted(missing))}")
    for index, item in chosen[:max_conversations]:
        scenario, _ = conversation_to_scenario(item, index, tuple(categories), source)
        text = f"# Imported from {Path(json_path).name} by evals.locomo; edit the importer, not this file.\n"
        text += yaml.safe_dump(scenario, sort_keys=False, allow_unicode=True, width=120)
        path = out / f"{scenario['name']}.yaml"
        parse_scenario(text, str(path))  # a malformed import fails here, not in the middle of a run
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Turn LoCoMo conversations into engram scenario files")
    parser.add_argument("json_path", type=Path, help="locomo10.json")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--categories", default="1,2,3,4", help="QA categories to keep (5 = adversarial)")
    parser.add_argument("--max-conversations", type=int, default=None)
    parser.add_argument("--source", choices=SOURCES, default="say", help="say the turns, or write the observations")
    parser.add_argument("--sample", action="append", default=[], help="a sample_id to import (repeatable)")
    args = parser.parse_args(argv)
    categories = tuple(int(c) for c in args.categories.split(",") if c.strip())
    for path in import_locomo(args.json_path, args.out_dir, categories, args.max_conversations, args.source,
                              tuple(args.sample)):
        print(path)


if __name__ == "__main__":
    main()
