"""The REST API over the real service (Edge store, real Redis)."""

import pytest
import redis
from fastapi.testclient import TestClient

from memory_service.api import create_app
from memory_service.heat import HeatTracker
from memory_service.service import MemoryService
from tests.conftest import make_settings

FACT = {"text": "Marla Quenby lives in Lisbon", "subject": "Marla Quenby", "relation": "lives in", "object": "Lisbon"}


@pytest.fixture
def client(service):
    with TestClient(create_app(service.settings, service), raise_server_exceptions=False) as c:
        yield c


def test_write_get_list_recall_delete(client):
    r = client.post("/v1/namespaces/alice/facts", json={"facts": [FACT, {"text": "Marla Quenby owns a tuba"}]})
    assert r.status_code == 201, r.text
    ids = [x["id"] for x in r.json()["results"]]
    assert client.get(f"/v1/namespaces/alice/facts/{ids[0]}").json()["text"] == FACT["text"]
    listed = client.get("/v1/namespaces/alice/facts").json()["facts"]
    assert {f["id"] for f in listed} == set(ids)
    hits = client.post("/v1/namespaces/alice/recall", json={"query": "Where does Marla live?", "limit": 1}).json()
    assert hits["hits"][0]["fact"]["id"] == ids[0] and hits["hits"][0]["heat"] == pytest.approx(1.0)
    topics = client.get("/v1/namespaces/alice/topics").json()
    assert sum(t["facts"] for t in topics) == 2
    assert client.delete(f"/v1/namespaces/alice/facts/{ids[0]}").json()["status"] == "deleted"
    hits = client.post("/v1/namespaces/alice/recall", json={"query": "Where does Marla live?", "limit": 5}).json()
    assert ids[0] not in [h["fact"]["id"] for h in hits["hits"]]


def test_namespace_isolation_through_api(client):
    a = client.post("/v1/namespaces/alice/facts", json={"facts": [FACT]}).json()["results"][0]["id"]
    client.post("/v1/namespaces/bob/facts", json={"facts": [{"text": "Bob keeps bees"}]})
    hits = client.post("/v1/namespaces/bob/recall", json={"query": "Where does Marla live?", "limit": 100}).json()
    assert all(h["fact"]["namespace"] == "bob" for h in hits["hits"])
    assert client.get(f"/v1/namespaces/bob/facts/{a}").status_code == 404
    assert all(f["namespace"] == "bob" for f in client.get("/v1/namespaces/bob/facts").json()["facts"])


@pytest.mark.parametrize("body, field", [
    ({"facts": [{"text": ""}]}, "facts[0].text"),
    ({"facts": [FACT, {"text": "x" * 5000}]}, "facts[1].text"),
    ({"facts": [{"text": "ok", "topic": "../x"}]}, "facts[0].topic"),
    ({"facts": []}, "facts"),
    ({"facts": [{"text": "ok", "colour": "red"}]}, "facts[0].colour"),
    ({}, "facts"),
])
def test_bad_write_names_the_field_and_writes_nothing(client, service, body, field):
    r = client.post("/v1/namespaces/alice/facts", json=body)
    assert r.status_code == 422 and r.json()["field"] == field, r.text
    assert "Traceback" not in r.text
    assert client.get("/v1/namespaces/alice/facts").status_code == 404  # namespace never got a fact


def test_bad_namespace_and_ids(client):
    assert client.post("/v1/namespaces/..%2Fx/facts", json={"facts": [FACT]}).status_code in (404, 422)
    r = client.post("/v1/namespaces/bad%20ns/facts", json={"facts": [FACT]})
    assert r.status_code == 422 and r.json()["field"] == "namespace"
    assert client.post("/v1/namespaces/nobody/recall", json={"query": "hi"}).json()["field"] == "namespace"
    client.post("/v1/namespaces/alice/facts", json={"facts": [FACT]})
    r = client.get("/v1/namespaces/alice/facts/not-a-uuid")
    assert r.status_code == 422 and r.json()["field"] == "fact_id"
    assert client.get("/v1/namespaces/alice/facts/00000000-0000-0000-0000-000000000001").status_code == 404
    r = client.post("/v1/namespaces/alice/recall", json={"query": "  "})
    assert r.status_code == 422 and r.json()["field"] == "query"


def test_redis_down_gives_503_naming_it(tmp_path, embedder, engine):
    s = make_settings(tmp_path, "redis://127.0.0.1:1/0", engine)
    dead = HeatTracker(redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2), s.heat, "x")
    svc = MemoryService(s, embedder=embedder, heat=dead)
    with TestClient(create_app(s, svc), raise_server_exceptions=False) as c:
        r = c.post("/v1/namespaces/alice/facts", json={"facts": [FACT]})
        assert r.status_code == 503 and "redis" in r.json()["error"]
        assert "Traceback" not in r.text
        health = c.get("/healthz")
        assert health.status_code == 503 and health.json()["qdrant"] == "ok"
    svc.close()


def test_healthz_and_openapi(client):
    assert client.get("/healthz").json() == {"status": "ok", "redis": "ok", "qdrant": "ok"}
    paths = client.get("/openapi.json").json()["paths"]
    assert "/v1/namespaces/{ns}/recall" in paths and "/v1/namespaces/{ns}/facts/{fact_id}" in paths


def test_facts_router_holds_module_functions_mounted_behind_auth(settings):
    """routes/facts.py holds its handlers as plain functions; create_app mounts them under /v1's key check."""
    from memory_service.routes import facts
    from memory_service.routes.facts import get_fact, write_facts

    routes = {(r.path, m): r.endpoint for r in facts.router.routes for m in r.methods}
    assert routes[("/v1/namespaces/{ns}/facts", "POST")] is write_facts
    assert routes[("/v1/namespaces/{ns}/facts/{fact_id}", "GET")] is get_fact
    app = create_app(settings, relay=False)
    paths = app.openapi()["paths"]
    mounted = {(p, m.upper()): op for p, ops in paths.items() for m, op in ops.items()}
    assert set(routes) == {k for k in mounted if k[0].startswith("/v1/namespaces/{ns}/facts")} | {
        ("/v1/namespaces/{ns}/recall", "POST")}
    assert all(mounted[k]["security"] == [{"HTTPBearer": []}] for k in routes)
    assert "security" not in mounted[("/healthz", "GET")]
    assert app.url_path_for("get_fact", ns="alice", fact_id="f1") == "/v1/namespaces/alice/facts/f1"
