"""qdrant-client engine: a Qdrant server when a URL is set; its local mode stands in for the server in tests."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Callable, TypeVar

import numpy as np
from pydantic import SecretStr
from qdrant_client import QdrantClient, models

from ..errors import EngramError, InvalidInput, ServiceUnavailable, StoreLocked
from .base import INDEXED_FIELDS, VECTOR_NAME, FactFilter, FactStore, Point, Record

T = TypeVar("T")


def client_filter(flt: FactFilter) -> models.Filter | None:
    must: list[Any] = []
    for key, value in flt.conditions():
        match = models.MatchAny(any=value) if isinstance(value, list) else models.MatchValue(value=value)
        must.append(models.FieldCondition(key=key, match=match))
    null = models.IsNullCondition(is_null=models.PayloadField(key="consolidated_in"))
    if flt.consolidated is False:
        must.append(null)
    elif flt.consolidated is True:
        return models.Filter(must=must, must_not=[null])
    return models.Filter(must=must) if must else None


def _wrap(fn: Callable[..., T]) -> Callable[..., T]:
    """Vendor errors become ServiceUnavailable once, here; domain errors pass through."""

    @functools.wraps(fn)
    def inner(*args: Any, **kwargs: Any) -> T:
        try:
            return fn(*args, **kwargs)
        except EngramError:
            raise
        except Exception as exc:
            raise ServiceUnavailable("qdrant", f"{type(exc).__name__}: {exc}") from exc

    return inner


def _record(r: Any, with_vector: bool = False) -> Record:
    vec = None
    if with_vector and r.vector is not None:
        raw = r.vector[VECTOR_NAME] if isinstance(r.vector, dict) else r.vector
        vec = np.asarray(raw, dtype=np.float32)
    return Record(id=str(r.id), payload=dict(r.payload or {}), vector=vec, score=getattr(r, "score", None))


class ClientStore(FactStore):
    def __init__(self, client: QdrantClient, collection: str, dim: int, payload_indexes: bool = True):
        self.client = client
        self.payload_indexes = payload_indexes  # local mode ignores them (and warns)
        self.collection = collection
        self.dim = dim
        self._ensure_collection()

    @classmethod
    def for_server(cls, url: str, api_key: SecretStr | None, collection: str, dim: int, timeout: float):
        key = api_key.get_secret_value() if api_key else None
        client = QdrantClient(url=url, api_key=key, timeout=int(max(1, timeout)))
        return cls(client, collection, dim)

    @classmethod
    def for_local(cls, path: Path | str, collection: str, dim: int):
        try:
            client = QdrantClient(path=str(path)) if str(path) != ":memory:" else QdrantClient(":memory:")
        except RuntimeError as exc:
            if "already accessed" in str(exc):
                raise StoreLocked(str(path)) from exc
            raise
        return cls(client, collection, dim, payload_indexes=False)

    @_wrap
    def _ensure_collection(self) -> None:
        if self.client.collection_exists(self.collection):
            params = self.client.get_collection(self.collection).config.params.vectors
            stored = params[VECTOR_NAME].size if isinstance(params, dict) else params.size
            if stored != self.dim:
                raise InvalidInput(
                    f"collection {self.collection!r} holds vectors of size {stored}, but the embedder makes "
                    f"vectors of size {self.dim}; use the embedder it was built with or another collection",
                    field="embedder",
                )
        else:
            self.client.create_collection(
                self.collection,
                vectors_config={VECTOR_NAME: models.VectorParams(size=self.dim, distance=models.Distance.COSINE)},
            )
        for name in INDEXED_FIELDS if self.payload_indexes else ():
            schema = (
                models.KeywordIndexParams(type=models.KeywordIndexType.KEYWORD, is_tenant=True)
                if name == "namespace" else models.PayloadSchemaType.KEYWORD
            )
            self.client.create_payload_index(self.collection, name, field_schema=schema)

    @_wrap
    def upsert(self, points: list[Point]) -> None:
        if points:
            self.client.upsert(
                self.collection,
                points=[models.PointStruct(id=p.id, vector={VECTOR_NAME: p.vector.tolist()}, payload=p.payload)
                        for p in points],
                wait=True,
            )

    @_wrap
    def retrieve(self, ids: list[str], with_vector: bool = False) -> list[Record]:
        if not ids:
            return []
        found = self.client.retrieve(self.collection, ids=list(ids), with_payload=True,
                                     with_vectors=[VECTOR_NAME] if with_vector else False)
        return [_record(r, with_vector) for r in found]

    @_wrap
    def scroll(self, flt, limit, offset=None, with_vector=False):
        records, nxt = self.client.scroll(
            self.collection, scroll_filter=client_filter(flt), limit=limit, offset=offset, with_payload=True,
            with_vectors=[VECTOR_NAME] if with_vector else False,
        )
        return [_record(r, with_vector) for r in records], (str(nxt) if nxt is not None else None)

    @_wrap
    def search(self, vector, flt, limit):
        found = self.client.query_points(
            self.collection, query=np.asarray(vector, dtype=np.float32).tolist(), using=VECTOR_NAME,
            query_filter=client_filter(flt), limit=limit, with_payload=True,
        ).points
        return [_record(r) for r in found]

    @_wrap
    def search_batch(self, vectors, flt, limit):
        if len(vectors) == 0:
            return []
        f = client_filter(flt)
        requests = [models.QueryRequest(query=np.asarray(v).tolist(), using=VECTOR_NAME, filter=f, limit=limit,
                                        with_payload=True) for v in vectors]
        return [[_record(r) for r in resp.points] for resp in self.client.query_batch_points(self.collection, requests)]

    @_wrap
    def set_payload(self, ids: list[str], payload: dict[str, Any]) -> None:
        if ids:
            self.client.set_payload(self.collection, payload=payload, points=list(ids), wait=True)

    @_wrap
    def delete(self, ids: list[str]) -> None:
        if ids:
            self.client.delete(self.collection, points_selector=models.PointIdsList(points=list(ids)), wait=True)

    @_wrap
    def count(self, flt: FactFilter) -> int:
        return int(self.client.count(self.collection, count_filter=client_filter(flt), exact=True).count)

    def close(self) -> None:
        self.client.close()
