"""A LangGraph BaseStore backed by engram's short-term tier, so an existing LangGraph agent can use it.

Mapping: a store namespace tuple ("users", "alice") is the engram namespace "users.alice"; a key is a fact
id (a UUID derived from namespace and key); a value is a fact {"text", "topic"?, "subject"?, "relation"?,
"object"?} ("content" is accepted for "text"). Searching with a query is a recall: it heats the facts found,
as the agent's own recalls do. Deleting (put None) is engram's delete: never recalled again.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timezone
from typing import Any, Iterable

from langgraph.store.base import BaseStore, GetOp, Item, ListNamespacesOp, Op, PutOp, Result, SearchItem, SearchOp

from memory_service.errors import InvalidInput, NotFound
from memory_service.schemas import Fact, FactIn
from memory_service.service import MemoryService
from memory_service.store import FactFilter

KEY_NS = uuid.UUID("6b1f3d0e-5f7a-4c55-9d55-2f4a0c6e9b11")


def engram_namespace(namespace: tuple[str, ...]) -> str:
    if not namespace:
        raise InvalidInput("empty store namespace", field="namespace")
    return ".".join(namespace)


def fact_id(ns: str, key: str) -> str:
    return str(uuid.uuid5(KEY_NS, f"{ns}/{key}"))


def _value(f: Fact) -> dict[str, Any]:
    return {k: v for k, v in {"text": f.text, "topic": f.topic, "subject": f.subject, "relation": f.relation,
                              "object": f.object}.items() if v is not None}


class EngramStore(BaseStore):
    def __init__(self, service: MemoryService):
        self.svc = service

    def _item(self, namespace: tuple[str, ...], f: Fact, score: float | None = None):
        key = f.source.split("key:", 1)[1] if f.source and f.source.startswith("key:") else f.id
        now = f.created_at or datetime.now(timezone.utc)
        if score is None:
            return Item(value=_value(f), key=key, namespace=namespace, created_at=now, updated_at=now)
        return SearchItem(namespace=namespace, key=key, value=_value(f), created_at=now, updated_at=now, score=score)

    def _get(self, op: GetOp):
        ns = engram_namespace(op.namespace)
        try:
            f = self.svc.get(ns, fact_id(ns, op.key))
        except NotFound:
            return None
        return self._item(op.namespace, f) if f.status == "active" else None

    def _put(self, op: PutOp) -> None:
        ns = engram_namespace(op.namespace)
        fid = fact_id(ns, op.key)
        if op.value is None:
            try:
                self.svc.delete(ns, fid)
            except NotFound:
                pass
            return
        v = dict(op.value)
        text = v.get("text") or v.get("content")
        if not isinstance(text, str):
            raise InvalidInput("a store value needs a 'text' (or 'content') string", field="value.text")
        fact = FactIn(text=text, topic=v.get("topic"), subject=v.get("subject"), relation=v.get("relation"),
                      object=v.get("object"), source=f"key:{op.key}")
        self.svc.write(ns, [fact], ids=[fid])

    def _search(self, op: SearchOp) -> list:
        ns = engram_namespace(op.namespace_prefix)
        topic = (op.filter or {}).get("topic")
        try:
            if op.query:
                hits = self.svc.recall(ns, op.query, limit=min(100, op.limit + op.offset), topic=topic)
                return [self._item(op.namespace_prefix, h.fact, h.score) for h in hits][op.offset:]
            facts, _ = self.svc.list(ns, topic=topic, limit=op.limit + op.offset)
        except NotFound:
            return []
        return [self._item(op.namespace_prefix, f, 0.0) for f in facts][op.offset:]

    def _namespaces(self, op: ListNamespacesOp) -> list[tuple[str, ...]]:
        seen = sorted({r.payload["namespace"] for r in self.svc.store.scroll_all(FactFilter(status=("active",)))})
        out = [tuple(n.split(".")) for n in seen]
        if op.max_depth is not None:
            out = sorted({n[: op.max_depth] for n in out})
        for cond in op.match_conditions or ():
            path = tuple(cond.path)
            if cond.match_type == "prefix":
                out = [n for n in out if n[: len(path)] == path]
            else:
                out = [n for n in out if n[-len(path):] == path]
        return out[op.offset: op.offset + op.limit]

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        results: list[Result] = []
        for op in ops:
            if isinstance(op, GetOp):
                results.append(self._get(op))
            elif isinstance(op, PutOp):
                results.append(self._put(op))
            elif isinstance(op, SearchOp):
                results.append(self._search(op))
            elif isinstance(op, ListNamespacesOp):
                results.append(self._namespaces(op))
            else:
                raise InvalidInput(f"unsupported store operation {type(op).__name__}", field="op")
        return results

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        return await asyncio.to_thread(self.batch, list(ops))
