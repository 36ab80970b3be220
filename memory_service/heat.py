"""Heat: exponentially decayed hit counts per fact and per topic, kept in Redis, and due-topic events.

Each value is stored as "h:t" (heat h at time t); its value at `now` is h * 2^-((now - t) / half_life). Updating
fact heat, topic heat, the due check and the event happen in one Lua script, so one round trip per recall and
exactly one `topic.due` event per topic crossing "due", however many recalls race.

The keys it uses (heat, pending, due, stale, the event stream) are named in memory_service.events.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Iterable

import redis

from .errors import ServiceUnavailable
from .events import TOPIC_STALE, Event, Keys, add_to_pipe
from .settings import HeatSettings


def decay(heat: float, at: float, now: float, half_life_s: float) -> float:
    """Value at `now` of a heat that was `heat` at time `at`."""
    return heat * math.pow(2.0, -max(0.0, now - at) / half_life_s)


def parse(raw: bytes | str | None, now: float, half_life_s: float) -> float:
    if raw is None:
        return 0.0
    h, t = (raw.decode() if isinstance(raw, bytes) else raw).split(":")
    return decay(float(h), float(t), now, half_life_s)


def is_due(hot_created: list[float], now: float, cfg: HeatSettings) -> bool:
    """A topic is due with min_facts hot unconsolidated facts, or any hot one older than max_wait."""
    return len(hot_created) >= cfg.min_facts or any(now - c >= cfg.max_wait_s for c in hot_created)


# Mirrors decay() and is_due(); tests check both agree.
_SCRIPT = """
local now = tonumber(ARGV[1]); local hl = tonumber(ARGV[2]); local hot = tonumber(ARGV[3])
local min_facts = tonumber(ARGV[4]); local max_wait = tonumber(ARGV[5]); local ns = ARGV[6]
local pending_prefix = ARGV[7]; local n = tonumber(ARGV[8])
local facts_key, topics_key, due_key, stream = KEYS[1], KEYS[2], KEYS[3], KEYS[4]

local function value(raw)
  if not raw then return 0 end
  local sep = string.find(raw, ':', 1, true)
  local h = tonumber(string.sub(raw, 1, sep - 1)); local t = tonumber(string.sub(raw, sep + 1))
  local dt = now - t; if dt < 0 then dt = 0 end
  return h * math.pow(2, -dt / hl)
end

local heats = {}
local touched = {}; local order = {}
for i = 0, n - 1 do
  local fid = ARGV[9 + 2 * i]; local topic = ARGV[10 + 2 * i]
  local h = value(redis.call('HGET', facts_key, fid)) + 1
  redis.call('HSET', facts_key, fid, string.format('%.17g:%.17g', h, now))
  heats[#heats + 1] = string.format('%.17g', h)
  if topic ~= '' and not touched[topic] then touched[topic] = true; order[#order + 1] = topic end
  if topic ~= '' then
    local th = value(redis.call('HGET', topics_key, topic)) + 1
    redis.call('HSET', topics_key, topic, string.format('%.17g:%.17g', th, now))
  end
end
if n == 0 then  -- sweep mode: check every topic named after the count
  for i = 9, #ARGV do order[#order + 1] = ARGV[i] end
end

local due = {}
for _, topic in ipairs(order) do
  if redis.call('SISMEMBER', due_key, topic) == 0 then
    local members = redis.call('ZRANGE', pending_prefix .. topic, 0, -1, 'WITHSCORES')
    local hot_count = 0; local old = false
    for j = 1, #members, 2 do
      local fh = value(redis.call('HGET', facts_key, members[j]))
      if fh >= hot then
        hot_count = hot_count + 1
        if now - tonumber(members[j + 1]) >= max_wait then old = true end
      end
    end
    if hot_count >= min_facts or old then
      redis.call('SADD', due_key, topic)
      redis.call('XADD', stream, 'MAXLEN', '~', 100000, '*', 'type', 'topic.due', 'namespace', ns,
                 'topic', topic, 'hot_facts', hot_count, 'at', string.format('%.17g', now))
      due[#due + 1] = topic
    end
  end
end
return {heats, due}
"""


@dataclass
class TopicHeat:
    topic: str
    heat: float
    unconsolidated: int
    hot: int
    due: bool
    stale: bool = False


class HeatTracker:
    def __init__(self, client: redis.Redis, cfg: HeatSettings, prefix: str = "engram", clock=time.time):
        self.r = client
        self.cfg = cfg
        self.prefix = prefix
        self.keys = Keys(prefix)
        self.clock = clock  # evaluations replace it to advance time in a scripted dialogue
        self._script = client.register_script(_SCRIPT)

    # keys ----------------------------------------------------------------------------------------------
    def _keys(self, ns: str) -> list[str]:
        """The heat script's KEYS."""
        k = self.keys
        return [k.heat_facts(ns), k.heat_topics(ns), k.due(ns), k.events]

    def _run(self, fn, *args):
        try:
            return fn(*args)
        except redis.RedisError as exc:
            raise ServiceUnavailable("redis", f"{type(exc).__name__}: {exc}") from exc

    # writes ----------------------------------------------------------------------------------------------
    def hit(self, ns: str, facts: list[tuple[str, str]], now: float | None = None) -> tuple[list[float], list[str]]:
        """Record one use of each (fact_id, topic); return the facts' new heats and topics that became due."""
        return self._eval(ns, [x for pair in facts for x in pair], len(facts), now)

    def sweep(self, ns: str, topics: Iterable[str], now: float | None = None) -> list[str]:
        """Re-check topics (heat decays, time passes: max_wait); return those that became due."""
        topics = list(topics)
        return self._eval(ns, topics, 0, now)[1] if topics else []

    def _eval(self, ns: str, args: list[str], n: int, now: float | None) -> tuple[list[float], list[str]]:
        now = self.clock() if now is None else now
        c = self.cfg
        argv = [repr(now), repr(c.half_life_s), repr(c.hot_threshold), c.min_facts, repr(c.max_wait_s), ns,
                self.keys.pending(ns), n, *args]
        heats, due = self._run(self._script, self._keys(ns), argv)
        return [float(h) for h in heats], [d.decode() for d in due]

    def add_pending(self, ns: str, facts: list[tuple[str, str, float]]) -> None:
        """Register (fact_id, topic, created_at) as unconsolidated facts of their topics."""
        pipe = self.r.pipeline(transaction=True)
        for fid, topic, created in facts:
            pipe.zadd(self.keys.pending(ns, topic), {fid: created})
        pipe.incr(self.keys.generation(ns))
        self._run(pipe.execute)

    def forget(self, ns: str, facts: list[tuple[str, str]]) -> None:
        """Drop heat and pending entries of deleted or superseded facts."""
        pipe = self.r.pipeline(transaction=True)
        for fid, topic in facts:
            pipe.zrem(self.keys.pending(ns, topic), fid)
            pipe.hdel(self.keys.heat_facts(ns), fid)
        pipe.incr(self.keys.generation(ns))
        self._run(pipe.execute)

    def mark_stale(self, ns: str, topic: str) -> None:
        """The topic's adapter holds a fact that is no longer active: the agent must not use it, and a
        `topic.stale` event asks for a rebuild without it."""
        pipe = self.r.pipeline(transaction=True)
        pipe.sadd(self.keys.stale(ns), topic)
        add_to_pipe(pipe, self.keys, Event(type=TOPIC_STALE, namespace=ns, topic=topic))
        self._run(pipe.execute)

    def clear_stale(self, ns: str, topic: str) -> None:
        self._run(self.r.srem, self.keys.stale(ns), topic)

    def stale(self, ns: str) -> set[str]:
        return {m.decode() for m in self._run(self.r.smembers, self.keys.stale(ns))}

    def generation(self, ns: str) -> int:
        """Changes whenever the namespace's set of active facts changes (writes, deletes, supersedes), in any
        process: a reader may cache what it derives from the facts under this number."""
        return int(self._run(self.r.get, self.keys.generation(ns)) or 0)

    def clear_due(self, ns: str, topic: str) -> None:
        self._run(self.r.srem, self.keys.due(ns), topic)

    # reads ----------------------------------------------------------------------------------------------
    def fact_heat(self, ns: str, fact_ids: list[str], now: float | None = None) -> list[float]:
        if not fact_ids:
            return []
        now = self.clock() if now is None else now
        raw = self._run(self.r.hmget, self.keys.heat_facts(ns), fact_ids)
        return [parse(v, now, self.cfg.half_life_s) for v in raw]

    def topics(self, ns: str, topics: Iterable[str], now: float | None = None) -> list[TopicHeat]:
        now = self.clock() if now is None else now
        topics = sorted(set(topics))
        facts_key, topics_key, due_key, _ = self._keys(ns)
        pipe = self.r.pipeline(transaction=False)
        pipe.hmget(topics_key, topics) if topics else pipe.ping()
        pipe.smembers(due_key)
        pipe.smembers(self.keys.stale(ns))
        for t in topics:
            pipe.zrange(self.keys.pending(ns, t), 0, -1)
        res = self._run(pipe.execute)
        topic_raw = res[0] if topics else []
        due = {d.decode() for d in res[1]}
        stale = {d.decode() for d in res[2]}
        out = []
        for i, t in enumerate(topics):
            pending = [m.decode() for m in res[3 + i]]
            heats = self.fact_heat(ns, pending, now)
            hot = sum(h >= self.cfg.hot_threshold for h in heats)
            out.append(TopicHeat(t, parse(topic_raw[i], now, self.cfg.half_life_s), len(pending), hot, t in due,
                                  t in stale))
        return out

    def pending(self, ns: str, topic: str) -> list[str]:
        return [m.decode() for m in self._run(self.r.zrange, self.keys.pending(ns, topic), 0, -1)]

    def ping(self) -> None:
        self._run(self.r.ping)

    def drop_prefix(self) -> None:
        """Delete every key under this prefix (tests, `engram reset`)."""
        for key in self.r.scan_iter(match=self.keys.pattern(), count=1000):
            self.r.delete(key)
