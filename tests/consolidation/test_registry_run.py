"""Registry atomicity and one consolidation run end to end on the tiny model."""

import json

import pytest

from consolidation.gate import GateThresholds
from consolidation.run import consolidate
from consolidation.train import Recipe
from memory_service.errors import InvalidInput
from memory_service.registry import Registry


def write_files(d):
    (d / "adapter_model.safetensors").write_bytes(b"weights")
    (d / "adapter_config.json").write_text("{}")


def test_publish_versions_pointer_and_hashes(tmp_path):
    reg = Registry(tmp_path, keep_versions=2)
    v1 = reg.publish("ns", "pets", write_files, {"facts": []})
    v2 = reg.publish("ns", "pets", write_files, {"facts": []})
    assert (v1.version, v2.version) == (1, 2) and reg.current("ns", "pets").version == 2
    assert reg.verify(v2)["files"]["adapter_model.safetensors"]
    (v2.path / "adapter_model.safetensors").write_bytes(b"tampered")
    with pytest.raises(InvalidInput, match="does not match"):
        reg.verify(v2)
    reg.publish("ns", "pets", write_files, {})
    assert reg.versions("ns", "pets") == [2, 3]  # pruned to keep_versions
    assert reg.rollback("ns", "pets", 2).version == 2 and reg.current("ns", "pets").version == 2
    assert reg.topics("ns") == ["pets"]


def test_failed_write_leaves_nothing(tmp_path):
    reg = Registry(tmp_path)

    def broken(d):
        (d / "adapter_config.json").write_text("{}")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        reg.publish("ns", "pets", broken, {})
    assert reg.versions("ns", "pets") == [] and reg.current("ns", "pets") is None
    assert list((tmp_path / "ns" / "pets").iterdir()) == []
    with pytest.raises(InvalidInput):
        reg.publish("ns", "pets", lambda d: (d / "x.bin").write_bytes(b""), {})


@pytest.mark.parametrize("ns, topic", [("..", "pets"), ("ns", "../x"), ("a/b", "t"), ("ns", "UPPER")])
def test_paths_are_never_built_from_bad_names(tmp_path, ns, topic):
    with pytest.raises(InvalidInput):
        Registry(tmp_path).topic_dir(ns, topic)


RECIPE = Recipe(rank=8, alpha=16, lr=1e-2, top_layers=2, max_epochs=60, batch_size=2)


def test_run_publishes_then_skips_same_fact_set(tmp_path, tiny_base, tiny_facts):
    reg = Registry(tmp_path)
    # a tiny random model neither generalises to paraphrases nor answers the probe meaningfully
    loose = GateThresholds(taught=0.95, validation=0.0, probe_tolerance=1.0)
    out = consolidate("ns", "pets", tiny_facts, base=tiny_base, registry=reg, recipe=RECIPE, thresholds=loose)
    assert out.status == "published" and out.version == 1, out.reasons
    manifest = reg.current("ns", "pets").manifest()
    assert sorted(f["id"] for f in manifest["facts"]) == sorted(f.id for f in tiny_facts)
    assert manifest["gate"]["taught"] >= 0.95 and manifest["recipe"]["top_layers"] == 2
    assert json.loads((reg.current("ns", "pets").path / "adapter_config.json").read_text())["r"] == 8
    again = consolidate("ns", "pets", tiny_facts, base=tiny_base, registry=reg, recipe=RECIPE, thresholds=loose)
    assert again.status == "skipped" and reg.versions("ns", "pets") == [1]


def test_run_that_fails_the_gate_is_not_published(tmp_path, tiny_base, tiny_facts):
    reg = Registry(tmp_path)
    out = consolidate("ns", "pets", tiny_facts, base=tiny_base, registry=reg, recipe=RECIPE,
                      thresholds=GateThresholds(validation=1.01))  # a bar no run can reach
    assert out.status == "rejected" and out.version is None
    assert any("validation recall" in r for r in out.reasons)
    assert reg.versions("ns", "pets") == [] and not (tmp_path / "ns" / "pets" / "current").exists()
