"""One trainer per topic on the real Redis: requests during a run coalesce into exactly one follow-up."""

import threading
import time
import uuid

import redis

from consolidation.lock import TopicLock, run_exclusive


def test_requests_during_a_run_coalesce_into_one_follow_up(redis_url, cleanup_prefix):
    r = redis.Redis.from_url(redis_url)
    prefix = f"engram-test-{uuid.uuid4().hex[:8]}"
    cleanup_prefix(prefix)
    started, release = threading.Event(), threading.Event()
    reruns, results = [], []

    def long_run():
        started.set()
        release.wait(5)
        return "trained"

    t = threading.Thread(target=lambda: results.append(
        run_exclusive(r, prefix, "ns", "pets", "task-1", 10, long_run, lambda: reruns.append("rerun"))))
    t.start()
    started.wait(5)
    ran = [run_exclusive(r, prefix, "ns", "pets", f"task-{i}", 10, lambda: "never", lambda: None)
           for i in range(2, 5)]
    assert ran == [(False, None)] * 3  # not run twice, not dropped...
    release.set()
    t.join(5)
    assert results == [(True, "trained")]
    assert reruns == ["rerun"]  # ...but one follow-up for the three requests
    assert run_exclusive(r, prefix, "ns", "pets", "task-5", 10, lambda: "again", reruns.append) == (True, "again")
    assert reruns == ["rerun"]


def test_redelivered_task_takes_over_its_own_lock_and_others_wait(redis_url, cleanup_prefix):
    r = redis.Redis.from_url(redis_url)
    prefix = f"engram-test-{uuid.uuid4().hex[:8]}"
    cleanup_prefix(prefix)
    key = f"{prefix}:lock:ns:pets"
    dead = TopicLock(r, key, "task-1", ttl_s=30)
    assert dead.acquire()
    dead._stop.set()  # its worker died: no more heartbeats, the lock stays until it expires
    assert not TopicLock(r, key, "task-2", ttl_s=30).acquire()
    again = TopicLock(r, key, "task-1", ttl_s=30)  # the same task, redelivered
    assert again.acquire()
    again.release()
    assert r.get(key) is None


def test_heartbeat_keeps_a_long_run_locked(redis_url, cleanup_prefix):
    r = redis.Redis.from_url(redis_url)
    prefix = f"engram-test-{uuid.uuid4().hex[:8]}"
    cleanup_prefix(prefix)
    lock = TopicLock(r, f"{prefix}:lock:ns:t", "task-1", ttl_s=0.6)
    assert lock.acquire()
    time.sleep(1.5)  # well past the ttl: renewed meanwhile
    assert r.get(f"{prefix}:lock:ns:t") == b"task-1"
    lock.release()
