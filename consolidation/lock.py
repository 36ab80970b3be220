"""One trainer per (namespace, topic): a Redis lock with expiry, renewed by a heartbeat while a run lives.

A request that arrives while a run holds the lock is coalesced: it sets a "rerun" flag, and the running one,
when it ends, asks for exactly one follow-up run however many requests came in between.
"""

from __future__ import annotations

import logging
import threading
from typing import Callable, TypeVar

import redis

from memory_service.events import Keys

log = logging.getLogger(__name__)
T = TypeVar("T")


class TopicLock:
    """The token is the task id: a redelivered task (its worker was killed) takes over its own dead lock
    instead of waiting for it to expire."""

    def __init__(self, r: redis.Redis, key: str, token: str, ttl_s: float):
        self.lock = r.lock(key, timeout=ttl_s, thread_local=False)
        self.r, self.key, self.token, self.ttl = r, key, token, ttl_s
        self._stop = threading.Event()

    def acquire(self) -> bool:
        if self.lock.acquire(blocking=False, token=self.token):
            return self._heartbeat()
        held = self.r.get(self.key)
        if held is not None and held.decode() == self.token:
            self.lock.local.token = self.token.encode()
            self.lock.reacquire()
            return self._heartbeat()
        return False

    def _heartbeat(self) -> bool:
        def beat():
            while not self._stop.wait(self.ttl / 3):
                try:
                    self.lock.reacquire()
                except redis.exceptions.LockError:
                    log.warning("lost lock %s", self.key)
                    return

        threading.Thread(target=beat, daemon=True, name=f"lock-{self.key}").start()
        return True

    def release(self) -> None:
        self._stop.set()
        try:
            self.lock.release()
        except redis.exceptions.LockError:
            pass


def run_exclusive(r: redis.Redis, prefix: str, ns: str, topic: str, token: str, ttl_s: float,
                  fn: Callable[[], T], on_rerun: Callable[[], None]) -> tuple[bool, T | None]:
    """Run `fn` holding the topic's lock, or coalesce. Returns (ran, result)."""
    keys = Keys(prefix)
    lock = TopicLock(r, keys.lock(ns, topic), token, ttl_s)
    rerun = keys.rerun(ns, topic)
    if not lock.acquire():
        r.set(rerun, 1)
        return False, None
    try:
        return True, fn()
    finally:
        lock.release()
        if r.getdel(rerun) is not None:
            on_rerun()
