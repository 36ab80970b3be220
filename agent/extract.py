"""Fact extraction from a user turn. The deterministic extractor handles first-person statements; an
OpenAI-compatible endpoint can be plugged in through the same interface (settings: agent.extractor_url)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Protocol

import httpx

USER = "the user"  # subject of first-person facts


# First-person relations grouped into topics, so one adapter holds one area of a user's life.
TOPIC_OF = {
    **{r: "family" for r in ("sister", "brother", "mother", "father", "wife", "husband", "partner", "son",
                             "daughter", "grandmother", "grandfather", "cousin", "dog", "cat", "pet")},
    **{r: "work" for r in ("works at", "works as", "boss", "manager")},
    **{r: "life" for r in ("lives in", "car", "name", "instrument")},
}


@dataclass(frozen=True)
class Extracted:
    subject: str
    relation: str
    object: str
    text: str  # canonical statement

    @property
    def topic(self) -> str | None:
        if self.subject != USER:
            return None  # let the service pick the nearest topic
        return TOPIC_OF.get(self.relation, "life")

    def as_fact(self, topic: str | None = None, source: str | None = None) -> dict:
        return {"text": self.text, "subject": self.subject, "relation": self.relation, "object": self.object,
                "topic": topic or self.topic, "source": source}


class Extractor(Protocol):
    def __call__(self, message: str) -> list[Extracted]: ...


_OBJ = r"(?P<o>[A-Za-z0-9][\w' .&-]*?)"
_END = r"\s*(?:[.!,;]|$| and | but | now\b| too\b)"

# (pattern, relation, statement template). Order matters: specific before general.
_PATTERNS: list[tuple[re.Pattern, str, str]] = [
    (re.compile(r"\bmy (?P<r>sister|brother|mother|father|mom|dad|wife|husband|partner|son|daughter|"
                r"boss|manager|best friend|friend|cat|dog|pet|grandmother|grandfather|cousin)(?:'s name)? is "
                r"(?:called |named )?" + _OBJ + _END, re.I), "{r}", "The user's {r} is {o}."),
    (re.compile(r"\bmy (?P<r>favou?rite [a-z]+) is " + _OBJ + _END, re.I), "{r}", "The user's {r} is {o}."),
    (re.compile(r"\bi (?:have )?(?:moved|relocated) to " + _OBJ + _END, re.I), "lives in", "The user lives in {o}."),
    (re.compile(r"\bi (?:now )?live in " + _OBJ + _END, re.I), "lives in", "The user lives in {o}."),
    (re.compile(r"\bi work (?:at|for) " + _OBJ + r" as an? (?P<o2>[\w' -]+?)" + _END, re.I), "works at",
     "The user works at {o}."),
    (re.compile(r"\bi work (?:at|for) " + _OBJ + _END, re.I), "works at", "The user works at {o}."),
    (re.compile(r"\bi(?:'m| am) an? (?P<o>[\w' -]+?)" + _END, re.I), "works as", "The user works as a {o}."),
    (re.compile(r"\bi work as an? " + _OBJ + _END, re.I), "works as", "The user works as a {o}."),
    (re.compile(r"\bi drive an? " + _OBJ + _END, re.I), "car", "The user drives a {o}."),
    (re.compile(r"\bi play the " + _OBJ + _END, re.I), "instrument", "The user plays the {o}."),
    (re.compile(r"\bmy name is " + _OBJ + _END, re.I), "name", "The user's name is {o}."),
]

_SKIP_OBJECTS = {"not", "sure", "sorry", "fine", "ok", "okay", "here", "back", "going", "trying", "happy", "sad"}


def extract_first_person(message: str) -> list[Extracted]:
    """Deterministic extraction of first-person facts: "my sister is Ana", "I moved to Oslo",
    "I work at Acme as a nurse" (-> works at Acme, works as nurse)."""
    out: list[Extracted] = []
    seen: set[tuple[str, str]] = set()
    for sentence in re.split(r"(?<=[.!?])\s+", message.strip()):
        if sentence.rstrip().endswith("?"):
            continue  # questions state nothing
        for pattern, relation, template in _PATTERNS:
            for m in pattern.finditer(sentence):
                obj = m.group("o").strip().rstrip(".")
                rel = relation.format(r=m.groupdict().get("r", "").lower()) if "{r}" in relation else relation
                rel = rel.replace("favorite", "favourite").replace("mom", "mother").replace("dad", "father")
                if not obj or obj.lower() in _SKIP_OBJECTS or (rel, obj.lower()) in seen:
                    continue
                if any(e.relation == rel for e in out):
                    continue
                seen.add((rel, obj.lower()))
                out.append(Extracted(USER, rel, obj, template.format(r=rel, o=obj)))
                job = m.groupdict().get("o2")
                if job and not any(e.relation == "works as" for e in out):
                    out.append(Extracted(USER, "works as", job.strip(), f"The user works as a {job.strip()}."))
    return out


class EndpointExtractor:
    """Asks an OpenAI-compatible chat endpoint for {"facts": [{"subject","relation","object","text"}]}."""

    PROMPT = ("Extract the durable facts the user states about themselves or others from the message. "
              'Answer only JSON: {"facts": [{"subject": ..., "relation": ..., "object": ..., "text": ...}]}. '
              'Use "the user" as the subject for first-person facts.')

    def __init__(self, url: str, model: str, api_key: str | None = None, timeout: float = 30.0):
        self.url = url.rstrip("/") + "/chat/completions"
        self.model = model
        self.headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.timeout = timeout

    def __call__(self, message: str) -> list[Extracted]:
        body = {"model": self.model, "temperature": 0, "response_format": {"type": "json_object"},
                "messages": [{"role": "system", "content": self.PROMPT}, {"role": "user", "content": message}]}
        resp = httpx.post(self.url, json=body, headers=self.headers, timeout=self.timeout)
        resp.raise_for_status()
        content = resp.json()["choices"][0]["message"]["content"]
        facts = json.loads(content).get("facts", [])
        return [Extracted(f["subject"], f["relation"], f["object"], f.get("text") or
                          f"{f['subject']} {f['relation']} {f['object']}.") for f in facts
                if all(f.get(k) for k in ("subject", "relation", "object"))]
