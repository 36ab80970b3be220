"""Qdrant Edge engine: the Qdrant engine in-process, on disk. Single-process: only the service opens it."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import numpy as np
import qdrant_edge as q

from ..errors import InvalidInput, ServiceUnavailable, StoreLocked
from .base import INDEXED_FIELDS, VECTOR_NAME, FactFilter, FactStore, Point, Record


def edge_filter(flt: FactFilter) -> q.Filter | None:
    must: list[Any] = []
    for key, value in flt.conditions():
        match = q.MatchAny(value) if isinstance(value, list) else q.MatchValue(value)
        must.append(q.FieldCondition(key=key, match=match))
    if flt.consolidated is False:
        must.append(q.IsNullCondition("consolidated_in"))
    elif flt.consolidated is True:
        return q.Filter(must=must, must_not=[q.IsNullCondition("consolidated_in")])
    return q.Filter(must=must) if must else None


def _record(r: Any, with_vector: bool = False) -> Record:
    vec = None
    if with_vector and r.vector is not None:
        vec = np.asarray(r.vector[VECTOR_NAME], dtype=np.float32)
    score = getattr(r, "score", None)
    return Record(id=str(r.id), payload=dict(r.payload or {}), vector=vec, score=score)


class EdgeStore(FactStore):
    """`flush_interval_s`: every update is in the shard's write-ahead log before it returns, so it survives a
    killed process (tests/memory_service/test_store_edge.py kills one); fsyncing the segments costs ~10 ms, so it
    happens at most this long after a write, on a background thread, and at close. An OS crash or power loss can
    lose that window, as with a Qdrant server's default. 0 fsyncs on every write."""

    def __init__(self, path: Path, dim: int, flush_interval_s: float = 0.0):
        self.path = Path(path)
        self.dim = dim
        self.flush_interval_s = flush_interval_s
        self._dirty = threading.Event()
        self._closing = threading.Event()
        self._flusher: threading.Thread | None = None
        # The bindings are not documented as thread-safe; the service is multi-threaded (FastAPI pool).
        self._lock = threading.RLock()
        config = q.EdgeConfig(vectors={VECTOR_NAME: q.EdgeVectorParams(size=dim, distance=q.Distance.Cosine)})
        existing = self.path / "edge_config.json"
        try:
            if existing.exists():
                stored = json.loads(existing.read_text())["vectors"][VECTOR_NAME]["size"]
                if stored != dim:
                    raise InvalidInput(
                        f"the store at {self.path} holds vectors of size {stored}, but the embedder makes "
                        f"vectors of size {dim}; use the embedder it was built with or another data dir",
                        field="embedder",
                    )
                self._shard = q.EdgeShard.load(str(self.path))
            else:
                self.path.mkdir(parents=True, exist_ok=True)
                self._shard = q.EdgeShard.create(str(self.path), config)
        except InvalidInput:
            raise
        except Exception as exc:  # the bindings raise plain Exception
            if "WouldBlock" in str(exc) or "WAL" in str(exc):
                raise StoreLocked(str(self.path)) from exc
            raise ServiceUnavailable("qdrant", str(exc)) from exc
        indexed = set(self._shard.info().payload_schema)
        for name in INDEXED_FIELDS:
            if name not in indexed:
                schema = q.KeywordIndexParams(is_tenant=True) if name == "namespace" else q.PayloadSchemaType.Keyword
                self._shard.update(q.UpdateOperation.create_field_index(name, schema))

    def upsert(self, points: list[Point]) -> None:
        if not points:
            return
        batch = [q.Point(p.id, {VECTOR_NAME: p.vector.tolist()}, p.payload) for p in points]
        with self._lock:
            self._shard.update(q.UpdateOperation.upsert_points(batch))
            self._flush_soon()

    def retrieve(self, ids: list[str], with_vector: bool = False) -> list[Record]:
        if not ids:
            return []
        with self._lock:
            found = self._shard.retrieve(list(ids), True, [VECTOR_NAME] if with_vector else False)
        return [_record(r, with_vector) for r in found]

    def scroll(self, flt, limit, offset=None, with_vector=False):
        req = q.ScrollRequest(
            offset=offset, limit=limit, filter=edge_filter(flt), with_payload=True,
            with_vector=[VECTOR_NAME] if with_vector else False,
        )
        with self._lock:
            records, nxt = self._shard.scroll(req)
        return [_record(r, with_vector) for r in records], (str(nxt) if nxt is not None else None)

    def _request(self, vector: np.ndarray, flt: FactFilter, limit: int) -> q.QueryRequest:
        return q.QueryRequest(
            query=q.Query.Nearest(np.asarray(vector, dtype=np.float32).tolist(), using=VECTOR_NAME),
            filter=edge_filter(flt), limit=limit, with_payload=True, with_vector=False,
        )

    def search(self, vector, flt, limit):
        with self._lock:
            found = self._shard.query(self._request(vector, flt, limit))
        return [_record(r) for r in found]

    def search_batch(self, vectors, flt, limit):
        if len(vectors) == 0:
            return []
        batch = q.QueryBatchRequest([self._request(v, flt, limit) for v in vectors])
        with self._lock:
            found = self._shard.query_batch(batch)
        return [[_record(r) for r in hits] for hits in found]

    def set_payload(self, ids: list[str], payload: dict[str, Any]) -> None:
        if not ids:
            return
        with self._lock:
            self._shard.update(q.UpdateOperation.set_payload(list(ids), payload))
            self._flush_soon()

    def delete(self, ids: list[str]) -> None:
        if not ids:
            return
        with self._lock:
            self._shard.update(q.UpdateOperation.delete_points(list(ids)))
            self._flush_soon()

    def count(self, flt: FactFilter) -> int:
        with self._lock:
            return int(self._shard.count(q.CountRequest(filter=edge_filter(flt), exact=True)))

    def _flush_soon(self) -> None:
        """Called under the lock after an update (already in the WAL)."""
        if self.flush_interval_s <= 0:
            self._shard.flush()
            return
        self._dirty.set()
        if self._flusher is None:
            self._flusher = threading.Thread(target=self._flush_loop, name="edge-flush", daemon=True)
            self._flusher.start()

    def _flush_loop(self) -> None:
        while not self._closing.is_set():
            self._dirty.wait()
            if self._closing.wait(self.flush_interval_s):
                return  # close() flushes
            with self._lock:
                if self._shard is not None and self._dirty.is_set():
                    self._dirty.clear()
                    self._shard.flush()

    def close(self) -> None:
        self._closing.set()
        self._dirty.set()  # wake the flusher so that it sees _closing
        if self._flusher is not None:
            self._flusher.join()
        with self._lock:
            if getattr(self, "_shard", None) is not None:
                self._shard.flush()
                self._shard.close()
                self._shard = None
