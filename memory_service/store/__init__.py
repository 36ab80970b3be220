"""Open the configured store: Qdrant Edge on disk (default), qdrant-client local mode, or a Qdrant server."""

from __future__ import annotations

from ..settings import Settings
from .base import FactFilter, FactStore, Point, Record


def open_store(settings: Settings, dim: int) -> FactStore:
    q = settings.qdrant
    if q.url:
        from .client import ClientStore

        return ClientStore.for_server(q.url, q.api_key, q.collection, dim, q.timeout_s)
    if q.local_mode:
        from .client import ClientStore

        return ClientStore.for_local(q.path, q.collection, dim)
    from .edge import EdgeStore

    return EdgeStore(q.path / q.collection, dim, q.flush_interval_s)


__all__ = ["FactFilter", "FactStore", "Point", "Record", "open_store"]
