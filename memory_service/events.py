"""The Redis layout: every key engram keeps, the event stream and the schema of its events. Nothing else spells
a key name; the heat script, the relay, the workers and `engram status` all ask this module.

Keys (prefix p, namespace ns, topic T):
  p:heat:ns:facts     hash fact_id -> "h:t" (decayed heat h at time t)
  p:heat:ns:topics    hash topic -> "h:t"
  p:pending:ns:T      zset fact_id -> created_at: active facts of topic T not yet in an adapter
  p:due:ns            set of topics that are due (cleared when a consolidation publishes)
  p:stale:ns          set of topics whose adapter holds a fact that is no longer active
  p:generation:ns     counter bumped by every change of the namespace's active facts (readers cache by it)
  p:tasks:ns          hash task_id -> JSON of a requested consolidation (topic, facts, reason, at)
  p:lock:ns:T         per-topic consolidation lock; p:rerun:ns:T asks its holder for one more run
  p:relayed:<id>      marker: the relay handled stream entry <id> (expires after a day)
  p:stats             hash of consolidation counters (memory_service.stats)
  p:events            the event stream (below); p:adapters the pub/sub channel that mirrors it for agents
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

import redis
from pydantic import BaseModel, Field

STREAM_MAXLEN = 100_000  # approximate cap of the event stream

# Event types. The first four ask the relay for a consolidation; the last two are the workers' outcomes.
TOPIC_DUE = "topic.due"  # written by the heat script (memory_service.heat), inside Redis
TOPIC_RERUN = "topic.rerun"
TOPIC_STALE = "topic.stale"
CONSOLIDATION_REQUESTED = "consolidation.requested"
ADAPTER_PUBLISHED = "adapter.published"
CONSOLIDATION_FAILED = "consolidation.failed"
TRIGGERS = frozenset({TOPIC_DUE, TOPIC_RERUN, TOPIC_STALE, CONSOLIDATION_REQUESTED})
EventType = Literal["topic.due", "topic.rerun", "topic.stale", "consolidation.requested", "adapter.published",
                    "consolidation.failed"]


@dataclass(frozen=True)
class Keys:
    prefix: str = "engram"

    def heat_facts(self, ns: str) -> str:
        return f"{self.prefix}:heat:{ns}:facts"

    def heat_topics(self, ns: str) -> str:
        return f"{self.prefix}:heat:{ns}:topics"

    def pending(self, ns: str, topic: str = "") -> str:
        """With no topic: the common head of the namespace's pending keys (the heat script appends the topic)."""
        return f"{self.prefix}:pending:{ns}:{topic}"

    def due(self, ns: str) -> str:
        return f"{self.prefix}:due:{ns}"

    def stale(self, ns: str) -> str:
        return f"{self.prefix}:stale:{ns}"

    def generation(self, ns: str) -> str:
        return f"{self.prefix}:generation:{ns}"

    def tasks(self, ns: str) -> str:
        return f"{self.prefix}:tasks:{ns}"

    def lock(self, ns: str, topic: str) -> str:
        return f"{self.prefix}:lock:{ns}:{topic}"

    def rerun(self, ns: str, topic: str) -> str:
        return f"{self.prefix}:rerun:{ns}:{topic}"

    def relayed(self, event_id: str) -> str:
        return f"{self.prefix}:relayed:{event_id}"

    @property
    def stats(self) -> str:
        return f"{self.prefix}:stats"

    @property
    def events(self) -> str:
        return f"{self.prefix}:events"

    @property
    def adapters(self) -> str:
        return f"{self.prefix}:adapters"

    def pattern(self, kind: str = "") -> str:
        """A SCAN pattern: every key (no kind), or those of one kind ("pending", "stale", "due", ...)."""
        return f"{self.prefix}:{kind}:*" if kind else f"{self.prefix}:*"

    # the reverse: which namespace (and topic) a scanned key belongs to -----------------------------------------
    def parse_pending(self, key: bytes | str) -> tuple[str, str]:
        """(ns, topic) of a `pending` key."""
        ns, topic = _text(key)[len(f"{self.prefix}:pending:"):].split(":", 1)
        return ns, topic

    def parse_ns(self, key: bytes | str) -> str:
        """The namespace of a `stale`, `due` or `heat:ns:topics` key."""
        rest = _text(key)[len(self.prefix) + 1:]
        if rest.startswith("heat:"):
            return rest[len("heat:"):].rsplit(":", 1)[0]
        return rest.split(":", 1)[1]


def _text(key: bytes | str) -> str:
    return key.decode() if isinstance(key, bytes) else key


class Event(BaseModel):
    """One entry of the event stream. Stream fields are strings: lists travel as JSON."""

    type: EventType
    namespace: str
    topic: str
    parent_topic: str = ""  # a shard's topic (`t--2`) names its parent here
    version: str = ""
    status: str = ""  # the run's outcome: published | skipped | rejected | empty | error
    fact_ids: list[str] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list)
    task_id: str = ""
    hot_facts: int | None = None  # topic.due
    at: float | None = None  # topic.due: the heat clock's time

    def fields(self) -> dict[str, str]:
        out = {}
        for k, v in self.model_dump(exclude_none=True).items():
            out[k] = v if isinstance(v, str) else json.dumps(v)
        return out

    @classmethod
    def from_fields(cls, fields: dict) -> "Event":
        """Parse a stream entry (bytes or str fields); JSON-encoded lists are decoded, unknown fields dropped."""
        raw = {_text(k): _text(v) for k, v in fields.items()}
        data: dict = {k: raw[k] for k in ("type", "namespace", "topic", "parent_topic", "version", "status",
                                          "task_id") if k in raw}
        for k in ("fact_ids", "reasons"):
            if k in raw:
                try:
                    data[k] = json.loads(raw[k])
                except ValueError:
                    data[k] = [raw[k]]
        for k, conv in (("hot_facts", int), ("at", float)):
            if k in raw:
                data[k] = conv(raw[k])
        return cls.model_validate(data)


def emit(r: redis.Redis, keys: Keys, event: Event, publish: bool = True) -> None:
    """Append to the stream (durable, consumed by the service's relay) and mirror on pub/sub (agents that
    hot-load adapters listen there; a missed message costs nothing, they also check versions per turn)."""
    r.xadd(keys.events, event.fields(), maxlen=STREAM_MAXLEN, approximate=True)
    if publish:
        r.publish(keys.adapters, event.model_dump_json(exclude_none=True))


def add_to_pipe(pipe, keys: Keys, event: Event) -> None:
    """Stream the event as part of a pipeline (a transaction with other writes)."""
    pipe.xadd(keys.events, event.fields(), maxlen=STREAM_MAXLEN, approximate=True)
