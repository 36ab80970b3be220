"""API keys: hashed at rest, mapped to namespaces; 401 without a known key, 403 outside its namespaces; the
CLI's --api path and ApiClient send ENGRAM_API_KEY; a warning when the API listens on a network without keys."""

import json
import logging
import os
import stat
import threading
import time

import pytest
import uvicorn
from pydantic import ValidationError
from typer.testing import CliRunner

from engram import cli
from memory_service.api import create_app
from memory_service.auth import KeyFile, hash_key
from memory_service.client import ApiClient
from memory_service.errors import Forbidden, Unauthorized
from memory_service.schemas import FactIn
from memory_service.service import MemoryService
from memory_service.settings import Settings
from tests.ops.conftest import running_app

FACT = {"facts": [{"text": "Marla Quenby lives in Lisbon"}]}
ALICE_KEY = "engram_test-key-for-alice"
TEAM_KEY = "engram_test-key-for-teams"


def bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def keyed(ops_settings, embedder):
    s = ops_settings(auth={"keys": {hash_key(ALICE_KEY): ["alice"], hash_key(TEAM_KEY): ["team-*"]}})
    with running_app(s, embedder) as (client, _):
        yield client


def test_without_keys_auth_is_off(ops_settings, embedder):
    with running_app(ops_settings(), embedder) as (client, _):
        assert client.post("/v1/namespaces/alice/facts", json=FACT).status_code == 201


def test_missing_or_unknown_key_is_401(keyed):
    r = keyed.post("/v1/namespaces/alice/facts", json=FACT)
    assert r.status_code == 401 and "missing API key" in r.json()["error"]
    assert r.headers["www-authenticate"] == "Bearer"
    r = keyed.get("/v1/namespaces/alice/facts", headers=bearer("engram_guessed"))
    assert r.status_code == 401 and r.json()["error"] == "unknown API key"
    r = keyed.get("/v1/namespaces/alice/facts", headers={"Authorization": f"Basic {ALICE_KEY}"})
    assert r.status_code == 401  # only bearer tokens count


def test_key_is_confined_to_its_namespaces(keyed):
    assert keyed.post("/v1/namespaces/alice/facts", json=FACT, headers=bearer(ALICE_KEY)).status_code == 201
    r = keyed.post("/v1/namespaces/bob/facts", json=FACT, headers=bearer(ALICE_KEY))
    assert r.status_code == 403 and r.json()["field"] == "namespace" and "'bob'" in r.json()["error"]
    # every /v1 route is guarded, not only writes
    assert keyed.post("/v1/namespaces/bob/recall", json={"query": "x"}, headers=bearer(ALICE_KEY)).status_code == 403
    assert keyed.get("/v1/namespaces/bob/topics", headers=bearer(ALICE_KEY)).status_code == 403
    assert keyed.post("/v1/namespaces/bob/consolidations", json={"topic": "t"},
                      headers=bearer(ALICE_KEY)).status_code == 403
    # patterns: team-* covers team-a, not alice
    assert keyed.post("/v1/namespaces/team-a/facts", json=FACT, headers=bearer(TEAM_KEY)).status_code == 201
    assert keyed.get("/v1/namespaces/alice/facts", headers=bearer(TEAM_KEY)).status_code == 403


def test_healthz_and_metrics_stay_open_by_default(keyed):
    assert keyed.get("/healthz").status_code == 200
    assert keyed.get("/metrics").status_code == 200


def test_metrics_can_require_a_key(ops_settings, embedder):
    s = ops_settings(auth={"keys": {hash_key(ALICE_KEY): ["alice"]}, "metrics_public": False})
    with running_app(s, embedder) as (client, _):
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers=bearer(ALICE_KEY)).status_code == 200  # any valid key


def test_keys_file_holds_hashes_only_and_is_reread(ops_settings, embedder):
    s = ops_settings()
    with running_app(s, embedder) as (client, _):
        assert client.get("/v1/namespaces/alice/topics").status_code == 404  # auth off: no such namespace yet
        key, entry = KeyFile(s.auth.keys_file).add(["alice"], label="ci")
        # the running server picks the new key up: auth is on now
        assert client.get("/v1/namespaces/alice/topics").status_code == 401
        assert client.post("/v1/namespaces/alice/facts", json=FACT, headers=bearer(key)).status_code == 201
        text = s.auth.keys_file.read_text()
        assert key not in text and entry.sha256 == hash_key(key) and entry.sha256 in text
        assert stat.S_IMODE(os.stat(s.auth.keys_file).st_mode) == 0o600
        KeyFile(s.auth.keys_file).revoke(entry.sha256[:10])
        assert client.get("/v1/namespaces/alice/topics", headers=bearer(key)).status_code == 200  # auth off again


def test_broken_keys_file_fails_closed(ops_settings, embedder):
    s = ops_settings()
    s.auth.keys_file.parent.mkdir(parents=True, exist_ok=True)
    s.auth.keys_file.write_text("{not json")
    with running_app(s, embedder) as (client, _):
        r = client.get("/v1/namespaces/alice/topics")
        assert r.status_code == 503 and "keys file" in r.json()["error"]


def test_settings_refuse_a_raw_key_where_a_hash_belongs(monkeypatch):
    monkeypatch.setenv("ENGRAM_AUTH__KEYS", json.dumps({ALICE_KEY: ["alice"]}))
    with pytest.raises(ValidationError, match="never the key itself"):
        Settings()
    monkeypatch.setenv("ENGRAM_AUTH__KEYS", json.dumps({hash_key(ALICE_KEY): ["../x"]}))
    with pytest.raises(ValidationError, match="pattern"):
        Settings()


@pytest.fixture
def live_api(ops_settings, embedder):
    """A real uvicorn server on a free port (the CLI and ApiClient speak real HTTP to it)."""
    s = ops_settings(auth={"keys": {hash_key(ALICE_KEY): ["alice"]}})
    svc = MemoryService(s, embedder=embedder)
    server = uvicorn.Server(uvicorn.Config(create_app(s, svc, relay=False), host="127.0.0.1", port=0,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started:
        assert time.time() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield s, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)
    svc.close()


def test_api_client_sends_its_key(live_api):
    _, url = live_api
    with pytest.raises(Unauthorized):
        ApiClient(url).write("alice", [FactIn(text="Marla Quenby lives in Lisbon")])
    client = ApiClient(url, ALICE_KEY)
    (w,) = client.write("alice", [FactIn(text="Marla Quenby lives in Lisbon")])
    assert client.get("alice", w.id).text == "Marla Quenby lives in Lisbon"
    with pytest.raises(Forbidden):
        client.topics("bob")


def test_cli_api_path_sends_engram_api_key(live_api, monkeypatch, tmp_path):
    _, url = live_api
    monkeypatch.setenv("ENGRAM_DATA_DIR", str(tmp_path / "cli"))  # the CLI must not need the server's files
    monkeypatch.delenv("ENGRAM_API_KEY", raising=False)
    runner = CliRunner()
    r = runner.invoke(cli.app, ["remember", "-n", "alice", "--api", url, "Marla Quenby lives in Lisbon"])
    assert r.exit_code != 0 and "missing API key" in r.output
    monkeypatch.setenv("ENGRAM_API_KEY", ALICE_KEY)
    r = runner.invoke(cli.app, ["remember", "-n", "alice", "--api", url, "--json", "Marla Quenby lives in Lisbon"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli.app, ["recall", "-n", "alice", "--api", url, "--json", "Where does Marla live?"])
    assert r.exit_code == 0 and json.loads(r.stdout)[0]["fact"]["text"] == "Marla Quenby lives in Lisbon"
    r = runner.invoke(cli.app, ["topics", "-n", "bob", "--api", url])
    assert r.exit_code != 0 and "may not use namespace 'bob'" in r.output


def test_keys_cli_add_list_revoke(tmp_path, monkeypatch):
    monkeypatch.setenv("ENGRAM_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("ENGRAM_AUTH__KEYS", raising=False)
    runner = CliRunner()
    r = runner.invoke(cli.app, ["keys", "add", "-n", "alice", "-n", "team-*", "--label", "ci"])
    assert r.exit_code == 0, r.output
    key = r.stdout.strip()
    assert key.startswith("engram_") and len(key) > 40
    stored = json.loads((tmp_path / "api-keys.json").read_text())["keys"]
    assert stored[0]["sha256"] == hash_key(key) and stored[0]["namespaces"] == ["alice", "team-*"]
    assert key not in (tmp_path / "api-keys.json").read_text()
    r = runner.invoke(cli.app, ["keys", "list"])
    assert hash_key(key)[:12] in r.output and key not in r.output
    assert runner.invoke(cli.app, ["keys", "add", "-n", "../etc"]).exit_code != 0
    r = runner.invoke(cli.app, ["keys", "revoke", hash_key(key)[:12]])
    assert r.exit_code == 0 and json.loads((tmp_path / "api-keys.json").read_text())["keys"] == []


@pytest.mark.parametrize("host, warned", [("0.0.0.0", True), ("127.0.0.1", False), ("localhost", False),
                                          ("::", True)])
def test_serve_warns_when_listening_on_a_network_without_keys(host, warned, tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("ENGRAM_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("ENGRAM_AUTH__KEYS", raising=False)
    started = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: started.update(kw))
    with caplog.at_level(logging.WARNING, logger="memory_service.auth"):
        r = CliRunner().invoke(cli.app, ["serve", "--host", host])
    assert r.exit_code == 0, r.output
    assert started["host"] == host
    assert ("without API keys" in caplog.text) is warned


def test_serve_does_not_warn_once_a_key_exists(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("ENGRAM_DATA_DIR", str(tmp_path))
    KeyFile(tmp_path / "api-keys.json").add(["*"])
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: None)
    with caplog.at_level(logging.WARNING, logger="memory_service.auth"):
        assert CliRunner().invoke(cli.app, ["serve", "--host", "0.0.0.0"]).exit_code == 0
    assert "without API keys" not in caplog.text
