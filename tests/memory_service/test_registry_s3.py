"""The adapter registry on object storage, against a real S3-compatible server process (moto's server mode)
through the real boto3 client: publish and read from "different machines" (separate clients and caches),
exactly-once publishing under a race, hash checks, and a writer killed in the middle of an upload."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import time
import uuid

import boto3
import pytest
import torch
from safetensors.torch import save_file

from bench.procs import ROOT, S3Server
from memory_service.errors import Conflict, InvalidInput
from memory_service.registry import open_registry
from memory_service.registry_s3 import S3Registry
from memory_service.settings import Settings


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    server = S3Server(tmp_path_factory.mktemp("s3") / "s3.log")
    yield server
    server.stop()


@pytest.fixture
def bucket(s3):
    name = f"engram-{uuid.uuid4().hex[:12]}"
    s3.bucket(name)
    return name


def raw(s3):
    return boto3.client("s3", endpoint_url=s3.url, region_name="us-east-1", aws_access_key_id="test",
                        aws_secret_access_key="test")


def machine(s3, bucket, tmp_path, name, **kw) -> S3Registry:
    """One machine's view: its own client and its own local cache."""
    return S3Registry(f"s3://{bucket}/adapters", tmp_path / name, endpoint_url=s3.url, access_key_id="test",
                      secret_access_key="test", **kw)


def adapter(value: float):
    def write(folder):
        save_file({"w": torch.full((4, 4), value)}, str(folder / "adapter_model.safetensors"))
        (folder / "adapter_config.json").write_text(json.dumps({"r": 4}))
    return write


def test_a_version_published_on_one_machine_loads_on_another(s3, bucket, tmp_path):
    worker, agent = machine(s3, bucket, tmp_path, "worker"), machine(s3, bucket, tmp_path, "agent")
    ref = worker.publish("ana", "family", adapter(1.0), {"facts": []})
    assert (ref.version, agent.versions("ana", "family")) == (1, [1])
    seen = agent.current("ana", "family")
    assert seen.version == 1 and seen.path.is_relative_to(tmp_path / "agent")
    assert agent.verify(seen)["files"] == worker.verify(ref)["files"]  # the same bytes, hash-checked
    assert agent.topics("ana") == ["family"] and agent.namespaces() == ["ana"]
    assert agent.summary() == {"ana": {"topics": 1, "versions": 1}}


def test_versions_are_kept_rolled_back_and_retired(s3, bucket, tmp_path):
    reg = machine(s3, bucket, tmp_path, "m", keep_versions=2)
    for value in (1.0, 2.0, 3.0):
        reg.publish("bo", "work", adapter(value), {})
    assert reg.versions("bo", "work") == [2, 3] and reg.current("bo", "work").version == 3
    assert reg.rollback("bo", "work", 2).version == 2 and reg.current("bo", "work").version == 2
    reg.retire("bo", "work")
    assert reg.current("bo", "work") is None and reg.topics("bo") == [] and reg.versions("bo", "work") == [2, 3]


def test_a_tampered_object_is_refused_and_not_cached(s3, bucket, tmp_path):
    machine(s3, bucket, tmp_path, "worker").publish("cy", "life", adapter(1.0), {})
    save_file({"w": torch.full((4, 4), 9.0)}, str(tmp_path / "evil.safetensors"))
    raw(s3).upload_file(str(tmp_path / "evil.safetensors"), bucket, "adapters/cy/life/v1/adapter_model.safetensors")
    reader = machine(s3, bucket, tmp_path, "reader")
    with pytest.raises(InvalidInput, match="does not match its manifest hash"):
        reader.current("cy", "life")
    assert not (tmp_path / "reader" / "cy" / "life" / "v1").exists()
    # a cached copy damaged on disk is refused where it is loaded (verify), as a folder registry's would be
    worker = machine(s3, bucket, tmp_path, "worker")
    cached = worker.current("cy", "life")
    (cached.path / "adapter_model.safetensors").write_bytes(b"bit rot")
    with pytest.raises(InvalidInput, match="does not match its manifest hash"):
        worker.verify(worker.current("cy", "life"))


def test_two_workers_racing_publish_exactly_one_version(s3, bucket, tmp_path):
    machine(s3, bucket, tmp_path, "seed").publish("race", "t", adapter(0.0), {})
    both_read = threading.Barrier(2)
    results: dict[str, object] = {}

    def run(name: str, value: float) -> None:
        def write(folder):
            both_read.wait(timeout=30)  # each has read the current pointer; now both try to publish
            adapter(value)(folder)
        try:
            results[name] = machine(s3, bucket, tmp_path, name).publish("race", "t", write, {"by": name})
        except Conflict as exc:
            results[name] = exc

    threads = [threading.Thread(target=run, args=(n, v)) for n, v in (("a", 1.0), ("b", 2.0))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    won = [n for n, r in results.items() if not isinstance(r, Exception)]
    assert len(won) == 1 and sum(isinstance(r, Conflict) for r in results.values()) == 1
    reader = machine(s3, bucket, tmp_path, "reader")
    assert reader.versions("race", "t") == [1, 2]
    assert reader.current("race", "t").manifest()["by"] == won[0]


def test_a_publish_that_loses_the_pointer_leaves_nothing_visible(s3, bucket, tmp_path):
    """Another version becomes current while this one uploads: this one is deleted again."""
    a, b = machine(s3, bucket, tmp_path, "a"), machine(s3, bucket, tmp_path, "b")
    a.publish("lose", "t", adapter(0.0), {})

    def write(folder):
        b.publish("lose", "t", adapter(2.0), {"by": "b"})
        adapter(1.0)(folder)

    with pytest.raises(Conflict):
        a.publish("lose", "t", write, {"by": "a"})
    assert a.versions("lose", "t") == [1, 2] and a.current("lose", "t").manifest()["by"] == "b"
    keys = [o["Key"] for o in raw(s3).list_objects_v2(Bucket=bucket, Prefix="adapters/lose/t/v3")["Contents"]] \
        if "Contents" in raw(s3).list_objects_v2(Bucket=bucket, Prefix="adapters/lose/t/v3") else []
    assert keys == []


def test_agents_list_again_only_when_told_or_when_too_old(s3, bucket, tmp_path):
    token = [0]
    agent = machine(s3, bucket, tmp_path, "agent", changed=lambda: token[0], index_max_age_s=3600)
    worker = machine(s3, bucket, tmp_path, "worker")
    worker.publish("ev", "one", adapter(1.0), {})
    assert agent.topics("ev") == ["one"]
    worker.publish("ev", "two", adapter(2.0), {})
    assert agent.topics("ev") == ["one"]  # no event yet: the listing is not fetched again
    token[0] += 1  # an adapter.published event arrived
    assert agent.topics("ev") == ["one", "two"]
    stale = machine(s3, bucket, tmp_path, "stale", changed=lambda: 0, index_max_age_s=0)
    assert stale.topics("ev") == ["one", "two"]


def test_a_worker_killed_mid_upload_leaves_the_old_version_serving(s3, bucket, tmp_path):
    reg = machine(s3, bucket, tmp_path, "m")
    reg.publish("kill", "t", adapter(1.0), {"by": "old"})
    child = textwrap.dedent(f"""
        import os
        from memory_service.registry_s3 import S3Registry
        def write(folder):
            (folder / "adapter_model.safetensors").write_bytes(os.urandom(300 * 1024 * 1024))
        S3Registry("s3://{bucket}/adapters", {str(tmp_path / 'child')!r}, endpoint_url={s3.url!r},
                   access_key_id="test", secret_access_key="test").publish("kill", "t", write, {{"by": "killed"}})
    """)
    proc = subprocess.Popen([sys.executable, "-c", child], cwd=ROOT, start_new_session=True)
    client, deadline = raw(s3), time.time() + 120
    try:
        while time.time() < deadline and proc.poll() is None:  # the version number is claimed: upload begins
            if client.list_objects_v2(Bucket=bucket, Prefix="adapters/kill/t/claims/v2").get("KeyCount"):
                break
            time.sleep(0.01)
    finally:
        proc.kill()
        proc.wait(30)
    assert proc.returncode == -9, "the writer finished before it could be killed"
    assert reg.versions("kill", "t") == [1]  # no manifest: the claimed version is not a version
    assert reg.current("kill", "t").manifest()["by"] == "old"
    again = reg.publish("kill", "t", adapter(3.0), {"by": "next"})
    assert again.version == 3 and reg.current("kill", "t").manifest()["by"] == "next"


def test_settings_choose_the_registry(tmp_path, s3, bucket):
    folder = open_registry(Settings(data_dir=tmp_path))
    assert type(folder).__name__ == "Registry"
    s = Settings(data_dir=tmp_path, registry={"url": f"s3://{bucket}/x", "endpoint_url": s3.url,
                                              "access_key_id": "test", "secret_access_key": "test"})
    reg = open_registry(s)
    assert isinstance(reg, S3Registry) and reg.cache == tmp_path / "adapter-cache"
    reg.publish("s", "t", adapter(1.0), {})
    assert reg.current("s", "t").version == 1
    with pytest.raises(ValueError, match="registry.url"):
        Settings(data_dir=tmp_path, registry={"url": "http://not-s3"})


def test_a_worker_run_publishes_to_the_bucket_and_an_agent_elsewhere_answers_with_it(s3, bucket, tmp_path):
    """The whole path on the tiny model: consolidation on the "worker" machine, the adapter runtime on the
    "agent" machine, the bucket between them and nothing else shared."""
    from agent.runtime import AdapterRuntime
    from consolidation.gate import GateThresholds
    from consolidation.run import consolidate
    from consolidation.synth import build_dataset
    from consolidation.train import Recipe
    from tests.tiny import FACTS, build_tiny_base, build_tiny_tokenizer, make_fact

    worker, agent = machine(s3, bucket, tmp_path, "worker"), machine(s3, bucket, tmp_path, "agent")
    facts = [make_fact(*f) for f in FACTS]
    tok = build_tiny_tokenizer()
    out = consolidate("ns", "pets", facts, base=build_tiny_base(tok), registry=worker,
                      recipe=Recipe(rank=8, alpha=16, lr=1e-2, top_layers=2, max_epochs=60, batch_size=2),
                      thresholds=GateThresholds(taught=0.95, validation=0.0, probe_tolerance=1.0))
    assert out.status == "published" and out.version == 1, out.reasons
    ref = agent.current("ns", "pets")
    assert ref is not None and ref.version == 1 and str(tmp_path / "agent") in str(ref.path)
    rt = AdapterRuntime(build_tiny_base(tok), agent)
    taught = [qa for qa in build_dataset(facts).train if qa.kind == "taught"]
    answers, adapter = rt.answer([qa.question for qa in taught], [ref], max_new_tokens=8)
    assert adapter == "ns__pets"
    right = sum(qa.expected.lower() in a.lower() for qa, a in zip(taught, answers))
    assert right >= 0.9 * len(taught), list(zip([qa.question for qa in taught], answers))
    base_answers, _ = rt.answer([qa.question for qa in taught], [], max_new_tokens=8)
    assert sum(qa.expected.lower() in a.lower() for qa, a in zip(taught, base_answers)) < right
