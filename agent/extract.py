"""Fact extraction by an OpenAI-compatible endpoint (settings: agent.extractor_url), besides the deterministic
intake every message goes through (memory_service.intake)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Protocol

import httpx

from memory_service.topics import topic_of_relation

USER = "the user"  # subject of first-person facts


@dataclass(frozen=True)
class Extracted:
    subject: str
    relation: str
    object: str
    text: str  # canonical statement

    @property
    def topic(self) -> str | None:
        return topic_of_relation(self.subject, self.relation)  # None: the service picks the nearest topic

    def as_fact(self, topic: str | None = None, source: str | None = None) -> dict:
        return {"text": self.text, "subject": self.subject, "relation": self.relation, "object": self.object,
                "topic": topic or self.topic, "source": source}


class Extractor(Protocol):
    def __call__(self, message: str) -> list[Extracted]: ...


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
