"""The store interface: a few primitives every Qdrant engine provides. Fact rules live in service.py."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import numpy as np

VECTOR_NAME = "text"
INDEXED_FIELDS = ("namespace", "topic", "status", "subject_key", "derived_from")


@dataclass(frozen=True)
class FactFilter:
    """Conjunction of equality conditions on payload fields; a list means 'any of'."""

    namespace: str | None = None
    topic: str | None = None
    status: tuple[str, ...] | None = None
    subject_key: tuple[str, ...] | None = None
    consolidated: bool | None = None  # None = either; False = consolidated_in is null
    derived_from: tuple[str, ...] | None = None  # facts read from these statements

    def conditions(self) -> list[tuple[str, Any]]:
        out: list[tuple[str, Any]] = []
        for key in ("namespace", "topic", "status", "subject_key", "derived_from"):
            value = getattr(self, key)
            if value is not None:
                out.append((key, list(value) if isinstance(value, tuple) else value))
        return out


@dataclass
class Record:
    id: str
    payload: dict[str, Any]
    vector: np.ndarray | None = None
    score: float | None = None


@dataclass
class Point:
    id: str
    vector: np.ndarray
    payload: dict[str, Any] = field(default_factory=dict)


class FactStore(ABC):
    """One Qdrant collection of facts. Engines translate these calls to their client once."""

    dim: int

    @abstractmethod
    def upsert(self, points: list[Point]) -> None: ...

    @abstractmethod
    def retrieve(self, ids: list[str], with_vector: bool = False) -> list[Record]: ...

    @abstractmethod
    def scroll(
        self, flt: FactFilter, limit: int, offset: str | None = None, with_vector: bool = False
    ) -> tuple[list[Record], str | None]: ...

    @abstractmethod
    def search(self, vector: np.ndarray, flt: FactFilter, limit: int) -> list[Record]: ...

    def search_batch(self, vectors: np.ndarray, flt: FactFilter, limit: int) -> list[list[Record]]:
        return [self.search(v, flt, limit) for v in vectors]

    @abstractmethod
    def set_payload(self, ids: list[str], payload: dict[str, Any]) -> None: ...

    @abstractmethod
    def delete(self, ids: list[str]) -> None: ...

    @abstractmethod
    def count(self, flt: FactFilter) -> int: ...

    @abstractmethod
    def close(self) -> None: ...

    def scroll_all(self, flt: FactFilter, with_vector: bool = False, page: int = 512) -> list[Record]:
        out: list[Record] = []
        offset: str | None = None
        while True:
            records, offset = self.scroll(flt, page, offset, with_vector)
            out.extend(records)
            if offset is None:
                return out

    def __enter__(self) -> "FactStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
