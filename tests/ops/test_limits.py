"""Request body size limit: 413 with a JSON error naming the limit, before anything is written."""

import json

import pytest

from memory_service.auth import hash_key
from tests.ops.conftest import running_app

LIMIT = 4096


@pytest.fixture
def client(ops_settings, embedder):
    with running_app(ops_settings(max_body_bytes=LIMIT), embedder) as (c, _):
        yield c


def big_write(n_bytes: int) -> bytes:
    return json.dumps({"facts": [{"text": "x" * 900} for _ in range(n_bytes // 900 + 1)]}).encode()


def test_declared_length_over_limit_is_413_and_writes_nothing(client):
    body = big_write(LIMIT * 3)
    r = client.post("/v1/namespaces/alice/facts", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 413, r.text
    assert r.json() == {"error": f"request body is {len(body)} bytes; the limit is {LIMIT} bytes (max_body_bytes)",
                        "field": None}
    assert client.get("/v1/namespaces/alice/facts").status_code == 404  # the namespace never got a fact


def test_chunked_body_over_limit_is_413(client):
    body = big_write(LIMIT * 3)

    def chunks():  # no Content-Length: the limit is enforced while reading
        for i in range(0, len(body), 1000):
            yield body[i:i + 1000]

    r = client.post("/v1/namespaces/alice/facts", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413 and "the limit is 4096 bytes" in r.json()["error"]
    assert client.get("/v1/namespaces/alice/facts").status_code == 404


def test_body_under_limit_is_served(client):
    r = client.post("/v1/namespaces/alice/facts", json={"facts": [{"text": "Marla Quenby lives in Lisbon"}]})
    assert r.status_code == 201


def test_limit_applies_before_auth_reads_anything(ops_settings, embedder):
    s = ops_settings(max_body_bytes=LIMIT, auth={"keys": {hash_key("engram_k"): ["alice"]}})
    with running_app(s, embedder) as (c, _):
        r = c.post("/v1/namespaces/alice/facts", content=big_write(LIMIT * 3),
                   headers={"content-type": "application/json"})
        assert r.status_code == 413


def test_other_http_errors_share_the_error_body(client):
    r = client.get("/no/such/route")
    assert r.status_code == 404 and set(r.json()) == {"error", "field"}
    r = client.put("/v1/namespaces/alice/facts", json={})
    assert r.status_code == 405 and set(r.json()) == {"error", "field"}
