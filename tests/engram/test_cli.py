"""The `engram` CLI in-process on the embedded store, and through --api against a live server."""

import json
import uuid

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from engram import cli
from memory_service.api import create_app
from memory_service.client import ApiClient
from memory_service.errors import InvalidInput, NotFound
from memory_service.schemas import FactIn


@pytest.fixture
def env(tmp_path, redis_url, cleanup_prefix, monkeypatch):
    prefix = f"engram-test-{uuid.uuid4().hex[:10]}"
    cleanup_prefix(prefix)
    values = {"ENGRAM_DATA_DIR": str(tmp_path), "ENGRAM_REDIS__URL": redis_url,
              "ENGRAM_REDIS__EMBEDDED_FALLBACK": "false", "ENGRAM_REDIS__KEY_PREFIX": prefix}
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    return values


def test_remember_recall_topics_forget(env):
    runner = CliRunner()
    r = runner.invoke(cli.app, ["remember", "-n", "alice", "--topic", "home", "--json",
                                "Marla Quenby lives in Lisbon", "Marla Quenby owns a tuba"])
    assert r.exit_code == 0, r.output
    ids = [x["id"] for x in json.loads(r.stdout)]
    r = runner.invoke(cli.app, ["recall", "-n", "alice", "--json", "Where does Marla live?"])
    assert r.exit_code == 0 and json.loads(r.stdout)[0]["fact"]["id"] == ids[0]
    r = runner.invoke(cli.app, ["topics", "-n", "alice", "--json"])
    assert json.loads(r.stdout)[0]["topic"] == "home" and json.loads(r.stdout)[0]["facts"] == 2
    r = runner.invoke(cli.app, ["forget", "-n", "alice", ids[0]])
    assert r.exit_code == 0 and "deleted" in r.output
    r = runner.invoke(cli.app, ["recall", "-n", "alice", "--json", "Where does Marla live?"])
    assert ids[0] not in [h["fact"]["id"] for h in json.loads(r.stdout)]


@pytest.mark.parametrize("args, needle", [
    (["remember", "-n", "alice", ""], "facts[0].text"),
    (["remember", "-n", "../x", "a fact"], "namespace"),
    (["remember", "-n", "alice", "--topic", "../x", "a fact"], "topic"),
    (["recall", "-n", "nobody", "hello"], "nobody"),
    (["forget", "-n", "alice", "not-a-uuid"], "fact id"),
])
def test_bad_input_exits_nonzero_with_message(env, args, needle):
    r = CliRunner().invoke(cli.app, args)
    assert r.exit_code != 0
    assert needle in r.output and "Traceback" not in r.output


def test_api_client_speaks_the_same_operations(service):
    with TestClient(create_app(service.settings, service)) as tc:
        api = ApiClient("http://testserver")
        api._http = tc  # TestClient is an httpx.Client bound to the app
        (w,) = api.write("alice", [FactIn(text="Marla Quenby lives in Lisbon")])
        assert api.get("alice", w.id).text == "Marla Quenby lives in Lisbon"
        assert api.recall("alice", "Where does Marla live?")[0].fact.id == w.id
        assert api.topics("alice")[0].facts == 1
        assert api.list("alice")[0][0].id == w.id
        with pytest.raises(InvalidInput) as exc:
            api.write("alice", [FactIn.model_construct(text="")])
        assert exc.value.field == "facts[0].text"
        assert api.delete("alice", w.id).status == "deleted"
        with pytest.raises(NotFound):
            api.recall("nobody", "hi")


def test_bad_settings_are_one_clear_error(env, monkeypatch):
    """Settings are read once, by the CLI's callback, before any command runs."""
    monkeypatch.setenv("ENGRAM_CONSOLIDATION__RANK", "lots")
    r = CliRunner().invoke(cli.app, ["topics", "-n", "alice"])
    assert r.exit_code == 2
    assert "consolidation.rank" in r.output and "Traceback" not in r.output


def test_the_served_api_answers_chat_only_with_an_agent(service):
    """memory_service.api never imports the agent: without a graph factory chat says so (503), the rest works."""
    with TestClient(create_app(service.settings, service, relay=False), raise_server_exceptions=False) as tc:
        r = tc.post("/v1/namespaces/alice/chat", json={"message": "hi"})
        assert r.status_code == 503 and "graph factory" in r.json()["error"]
        assert tc.post("/v1/namespaces/alice/facts", json={"facts": [{"text": "Marla lives in Lisbon"}]}
                       ).status_code == 201


def publish_top_layer_adapter(tmp_path):
    """A published version of alice/family whose LoRA weights are for layer 3 only (rank 4)."""
    import torch
    from safetensors.torch import save_file

    from memory_service.registry import Registry

    def write(folder):
        save_file({"base_model.model.model.layers.3.self_attn.q_proj.lora_A.weight": torch.ones(4, 8)},
                  str(folder / "adapter_model.safetensors"))
        (folder / "adapter_config.json").write_text(json.dumps({"r": 4, "layers_to_transform": [3]}))

    return Registry(tmp_path / "adapters").publish("alice", "family", write, {"recipe": {"rank": 4}})


def test_export_writes_plain_peft_folders_and_the_vllm_flags(env, tmp_path):
    publish_top_layer_adapter(tmp_path)
    ref = publish_top_layer_adapter(tmp_path)
    out = tmp_path / "export"
    r = CliRunner().invoke(cli.app, ["export", "-n", "alice", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in (out / "family").iterdir()) == ["adapter_config.json", "adapter_model.safetensors"]
    assert (out / "family" / "adapter_model.safetensors").read_bytes() == \
        (ref.path / "adapter_model.safetensors").read_bytes()  # the current version (v2), as published
    flags = " ".join(r.output.split())
    assert "--enable-lora --max-lora-rank 4" in flags and f"alice.family={(out / 'family').resolve()}" in flags
    # a tampered version is refused, and a namespace without adapters is an error, not an empty export
    (ref.path / "adapter_model.safetensors").write_bytes(b"garbage")
    r = CliRunner().invoke(cli.app, ["export", "-n", "alice", "--out", str(out)])
    assert r.exit_code == 2 and "hash" in r.output
    r = CliRunner().invoke(cli.app, ["export", "-n", "nobody", "--out", str(out)])
    assert r.exit_code == 2 and "no published adapters" in r.output


def test_export_for_lorax_pads_every_layer_and_prints_the_request(env, tmp_path):
    from safetensors.torch import load_file

    ref = publish_top_layer_adapter(tmp_path)
    out = tmp_path / "export"
    r = CliRunner().invoke(cli.app, ["export", "-n", "alice", "--out", str(out), "--for", "lorax", "--layers", "4"])
    assert r.exit_code == 0, r.output
    assert len(load_file(str(out / "family" / "adapter_model.safetensors"))) == 4
    assert len(load_file(str(ref.path / "adapter_model.safetensors"))) == 1  # the published version is untouched
    text = " ".join(r.output.split())
    assert "lorax-launcher --model-id" in text and '"adapter_source": "local"' in text
    r = CliRunner().invoke(cli.app, ["export", "-n", "alice", "--out", str(out), "--for", "lorax", "--layers", "3"])
    assert r.exit_code == 2 and "layer 3" in r.output
    r = CliRunner().invoke(cli.app, ["export", "-n", "alice", "--out", str(out), "--for", "tgi"])
    assert r.exit_code == 2 and "one of vllm, lorax" in r.output
