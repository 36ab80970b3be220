"""Redis dies (SIGKILL) while clients write over HTTP, then comes back on the same port.

"Still there" after the restart means: every acknowledged fact answers GET with 200 (facts live in Qdrant),
it is still counted as unconsolidated in its topic (pending sets and heat live in Redis: appendonly with
appendfsync always keeps every acknowledged write), and nothing of a rejected write was left behind. While
Redis is down, writes and recalls answer 503 naming redis, promptly; the API recovers without a restart.
"""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from bench.procs import ApiServer, RedisServer
from evals.fictional import fictional_facts
from tests.faults.conftest import fault_settings

pytestmark = pytest.mark.integration

NS = "alice"
PROMPT_S = 10.0  # a request while Redis is down must be answered within this (connect timeout is 1 s)


class Writer(threading.Thread):
    """Writes one fact per request until stopped; records (status, seconds, body) of each."""

    def __init__(self, url: str, texts: list[str]):
        super().__init__(daemon=True)
        self.client = httpx.Client(base_url=url, timeout=60)
        self.texts, self.stop = texts, threading.Event()
        self.log: list[tuple[int, float, dict]] = []

    def run(self) -> None:
        for text in self.texts:
            if self.stop.is_set():
                break
            t0 = time.perf_counter()
            r = self.client.post(f"/v1/namespaces/{NS}/facts", json={"facts": [{"text": text}]})
            try:
                body = r.json()
            except ValueError:
                body = {"error": r.text}
            self.log.append((r.status_code, time.perf_counter() - t0, body))
            time.sleep(0.02)

    def count(self, status: int) -> int:
        return sum(s == status for s, _, _ in self.log)

    def wait_for(self, status: int, n: int, timeout: float) -> None:
        deadline = time.time() + timeout
        while self.count(status) < n:
            assert time.time() < deadline and self.is_alive(), f"no {n}x {status}: {self.log[-3:]}"
            time.sleep(0.05)


@pytest.fixture
def stack(tmp_path, cleanup_settings):
    procs = {"redis": RedisServer(tmp_path / "redis")}
    s = fault_settings(tmp_path / "data", procs["redis"].url)
    cleanup_settings(s)
    procs["api"] = ApiServer(s, tmp_path / "api.log")
    yield procs  # the test replaces procs["redis"] when it restarts Redis
    procs["api"].stop()
    procs["redis"].stop()


def test_redis_killed_and_restarted_during_writes(stack, tmp_path):
    api = stack["api"]
    texts = [f.text for f in fictional_facts(400, seed=5)]
    writer = Writer(api.url, texts)
    writer.start()
    client = httpx.Client(base_url=api.url, timeout=60)
    try:
        writer.wait_for(201, 10, timeout=60)
        stack["redis"].kill()  # SIGKILL: no shutdown save; only what the AOF fsynced survives
        writer.wait_for(503, 5, timeout=30)

        t0 = time.perf_counter()
        r = client.post(f"/v1/namespaces/{NS}/recall", json={"query": "Who lives in Porvoo?"})
        assert r.status_code == 503 and "redis" in r.json()["error"], r.text
        assert time.perf_counter() - t0 < PROMPT_S
        acked = next(b["results"][0]["id"] for s, _, b in writer.log if s == 201)
        assert client.get(f"/v1/namespaces/{NS}/facts/{acked}").status_code == 200  # reads need only Qdrant

        stack["redis"] = RedisServer(tmp_path / "redis", port=stack["redis"].port)  # same port, same AOF
        before = writer.count(201)
        writer.wait_for(201, before + 10, timeout=60)  # recovered without restarting the API
    finally:
        writer.stop.set()
        writer.join(timeout=60)

    statuses = {s for s, _, _ in writer.log}
    assert statuses <= {201, 503}, [(s, b) for s, _, b in writer.log if s not in (201, 503)]
    assert all("redis" in b["error"] for s, _, b in writer.log if s == 503)
    assert max(t for _, t, _ in writer.log) < PROMPT_S

    results = [b["results"][0] for s, _, b in writer.log if s == 201]
    created = {x["id"] for x in results if x["outcome"] == "created"}
    for x in results:
        got = client.get(f"/v1/namespaces/{NS}/facts/{x['id']}")
        assert got.status_code == 200, (x, got.text)
    listed = client.get(f"/v1/namespaces/{NS}/facts", params={"limit": 1000}).json()["facts"]
    assert {f["id"] for f in listed} == created  # a rejected write left nothing behind
    topics = client.get(f"/v1/namespaces/{NS}/topics").json()
    assert sum(t["unconsolidated"] for t in topics) == len(created)  # pending sets survived the kill
    r = client.post(f"/v1/namespaces/{NS}/recall", json={"query": "Who lives in Porvoo?"})
    assert r.status_code == 200, r.text
