"""The API process is SIGKILLed right after it acknowledges a batch: every fact of every acknowledged batch is
there when the API is started again on the same data dir (the Edge store flushes before a write returns)."""

from __future__ import annotations

import httpx
import pytest

from bench.procs import ApiServer
from evals.fictional import fictional_facts
from tests.faults.conftest import fault_settings

pytestmark = pytest.mark.integration

NS = "alice"


def test_acknowledged_batches_survive_sigkill(tmp_path, redis_url, cleanup_settings):
    s = fault_settings(tmp_path / "data", redis_url)
    cleanup_settings(s)
    facts = fictional_facts(150, seed=9)
    api = ApiServer(s, tmp_path / "api-1.log")
    acked: dict[str, str] = {}
    try:
        with httpx.Client(base_url=api.url, timeout=60) as client:
            for start in range(0, len(facts), 50):
                batch = [{"text": f.text, "subject": f.subject, "relation": f.relation, "object": f.object}
                         for f in facts[start:start + 50]]
                r = client.post(f"/v1/namespaces/{NS}/facts", json={"facts": batch})
                assert r.status_code == 201, r.text
                for fact, res in zip(batch, r.json()["results"]):
                    if res["outcome"] == "created":
                        acked[res["id"]] = fact["text"]
        api.kill()  # the moment the last batch is acknowledged: no shutdown, no close(), no final flush
    finally:
        api.stop()

    api = ApiServer(s, tmp_path / "api-2.log")  # same data dir, same Redis prefix
    try:
        with httpx.Client(base_url=api.url, timeout=60) as client:
            for fid, text in acked.items():
                r = client.get(f"/v1/namespaces/{NS}/facts/{fid}")
                assert r.status_code == 200 and r.json()["text"] == text, (fid, r.text)
            listed = client.get(f"/v1/namespaces/{NS}/facts", params={"limit": 1000}).json()["facts"]
            assert {f["id"] for f in listed} == set(acked)
            last = list(acked.values())[-1]
            hit = client.post(f"/v1/namespaces/{NS}/recall", json={"query": last, "limit": 1}).json()
            assert hit["hits"][0]["fact"]["text"] == last  # the vectors came back too, not only payloads
    finally:
        api.stop()
