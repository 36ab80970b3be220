"""Untrusted strings never reach a path, and adapters load only as safetensors that match their manifest."""

import json

import pytest
import torch

from agent.runtime import AdapterRuntime
from consolidation.train import Recipe, lora_config
from memory_service.adapter_files import check_version, sha256_file
from memory_service.errors import InvalidInput, NotFound
from memory_service.registry import Registry
from tests.ops.conftest import running_app
from tests.tiny import build_tiny_base, build_tiny_tokenizer


@pytest.mark.parametrize("value, expected", [(1, 1), ("3", 3), ("v12", 12)])
def test_versions_accepted(value, expected):
    assert check_version(value) == expected


@pytest.mark.parametrize("value", ["../v1", "1/..", "v1/../../x", "0", -1, "v", "latest", "1.5", "v1 ", True, None])
def test_versions_refused_before_any_path(tmp_path, value):
    with pytest.raises(InvalidInput) as exc:
        check_version(value)
    assert exc.value.field == "version"
    reg = Registry(tmp_path)
    with pytest.raises(InvalidInput):
        reg.ref("ns", "pets", value)
    with pytest.raises(InvalidInput):
        reg.rollback("ns", "pets", value)


def test_listing_skips_folders_that_are_not_valid_names(tmp_path):
    reg = Registry(tmp_path)
    reg.publish("ns", "pets", write_safetensors, {})
    for odd in ("ns/.tmp-x", "ns/UPPER", "ns/with space", ".hidden", "bad ns"):
        (tmp_path / odd).mkdir(parents=True)
        if odd.startswith("ns/"):
            (tmp_path / odd / "current").write_text("v1\n")
    assert reg.namespaces() == ["ns"]
    assert reg.topics("ns") == ["pets"] and reg.summary() == {"ns": {"topics": 1, "versions": 1}}


def test_api_refuses_path_like_topics(ops_settings, embedder):
    with running_app(ops_settings(), embedder) as (client, _):
        client.post("/v1/namespaces/alice/facts", json={"facts": [{"text": "Marla Quenby lives in Lisbon"}]})
        r = client.post("/v1/namespaces/alice/consolidations", json={"topic": "../../etc"})
        assert r.status_code == 422 and r.json()["field"] == "topic"
        r = client.get("/v1/namespaces/alice/facts", params={"topic": "a/b"})
        assert r.status_code == 422 and r.json()["field"] == "topic"


# verify: what a loader may trust ---------------------------------------------------------------------------

def write_safetensors(d):
    from safetensors.torch import save_file

    save_file({"w": torch.zeros(2)}, str(d / "adapter_model.safetensors"))
    (d / "adapter_config.json").write_text("{}")


def rewrite_manifest(ref, **changes):
    manifest = json.loads((ref.path / "manifest.json").read_text())
    manifest.update(changes)
    (ref.path / "manifest.json").write_text(json.dumps(manifest))


def tamper_weights(ref):
    (ref.path / "adapter_model.safetensors").write_bytes(b"other weights")


def plant_pickle(ref):
    (ref.path / "adapter_model.bin").write_bytes(b"pickled code")


def pickle_instead(ref):
    """Weights swapped for a pickle, and the manifest rewritten to match it: a self-consistent but unsafe folder."""
    (ref.path / "adapter_model.safetensors").unlink()
    plant_pickle(ref)
    rewrite_manifest(ref, files={"adapter_model.bin": sha256_file(ref.path / "adapter_model.bin"),
                                 "adapter_config.json": sha256_file(ref.path / "adapter_config.json")})


def delete_config(ref):
    (ref.path / "adapter_config.json").unlink()


def moved_from_elsewhere(ref):
    rewrite_manifest(ref, topic="other")


def manifest_points_outside(ref):
    manifest = json.loads((ref.path / "manifest.json").read_text())
    manifest["files"]["../../secret.json"] = "0" * 64
    (ref.path / "manifest.json").write_text(json.dumps(manifest))


@pytest.mark.parametrize("damage, why", [
    (tamper_weights, "does not match its manifest hash"),
    (plant_pickle, "adapter_model.bin is not a safetensors/json/md file"),
    (pickle_instead, "the manifest lists no adapter_model.safetensors"),
    (delete_config, "adapter_config.json is missing"),
    (moved_from_elsewhere, "its manifest describes"),
    (manifest_points_outside, "../../secret.json is missing"),
])
def test_verify_refuses_damaged_versions(tmp_path, damage, why):
    reg = Registry(tmp_path)
    ref = reg.publish("ns", "pets", write_safetensors, {})
    assert reg.verify(ref)["version"] == 1
    damage(ref)
    with pytest.raises(InvalidInput, match="refusing to load") as exc:
        reg.verify(ref)
    assert why in exc.value.message and exc.value.field == "adapter"


def test_publish_refuses_what_verify_would_refuse(tmp_path):
    reg = Registry(tmp_path)

    def with_pickle(d):
        write_safetensors(d)
        (d / "adapter_model.bin").write_bytes(b"")

    with pytest.raises(InvalidInput, match="adapter_model.bin"):
        reg.publish("ns", "pets", with_pickle, {})
    with pytest.raises(InvalidInput, match="no adapter_model.safetensors"):
        reg.publish("ns", "pets", lambda d: (d / "weights.safetensors").write_bytes(b""), {})
    assert reg.versions("ns", "pets") == []
    with pytest.raises(NotFound):
        reg.ref("ns", "pets", 1)


# the adapter runtime, on a tiny model -----------------------------------------------------------------------

@pytest.fixture
def tiny():
    return build_tiny_base(build_tiny_tokenizer())


def save_real_adapter(base, d, safe: bool):
    """A real peft LoRA on the tiny model, saved as safetensors or as a pickled adapter_model.bin."""
    from peft import get_peft_model

    pm = get_peft_model(base.model, lora_config(base, Recipe(rank=4, alpha=8, top_layers=2)))
    pm.save_pretrained(str(d), safe_serialization=safe)
    base.model = pm.unload()


def test_runtime_loads_safetensors_and_refuses_a_pickled_adapter(tmp_path, tiny):
    reg = Registry(tmp_path)
    good = reg.publish("ns", "pets", lambda d: save_real_adapter(build_tiny_base(build_tiny_tokenizer()), d, True),
                       {"recipe": {"rank": 4}})
    rt = AdapterRuntime(tiny, reg)
    assert rt.ensure(good) and rt.stats["loads"] == 1  # control: the verified safetensors version loads

    # A version folder that peft alone would load (it falls back to adapter_model.bin, i.e. torch.load):
    # consistent manifest and hashes, but pickled weights.
    bad = reg.topic_dir("ns", "music") / "v1"
    bad.mkdir(parents=True)
    save_real_adapter(build_tiny_base(build_tiny_tokenizer()), bad, safe=False)
    assert (bad / "adapter_model.bin").exists() and not (bad / "adapter_model.safetensors").exists()
    files = {p.name: sha256_file(p) for p in bad.iterdir()}
    (bad / "manifest.json").write_text(json.dumps({"namespace": "ns", "topic": "music", "version": 1,
                                                   "files": files, "recipe": {"rank": 4}}))
    (bad.parent / "current").write_text("v1\n")
    ref = reg.current("ns", "music")
    with pytest.raises(InvalidInput, match="refusing to load"):
        rt.ensure(ref)
    assert list(rt.slots) == [rt.ensure(good)] and rt.stats["loads"] == 1  # nothing else was loaded


def test_runtime_refuses_tampered_safetensors(tmp_path, tiny):
    reg = Registry(tmp_path)
    ref = reg.publish("ns", "pets", lambda d: save_real_adapter(build_tiny_base(build_tiny_tokenizer()), d, True),
                      {"recipe": {"rank": 4}})
    data = bytearray((ref.path / "adapter_model.safetensors").read_bytes())
    data[-1] ^= 0xFF  # one flipped bit in the weights: still a valid safetensors file
    (ref.path / "adapter_model.safetensors").write_bytes(bytes(data))
    rt = AdapterRuntime(tiny, reg)
    with pytest.raises(InvalidInput, match="does not match its manifest hash"):
        rt.ensure(ref)
    assert rt.pm is None
