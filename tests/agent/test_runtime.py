"""The adapter runtime on a tiny model: load, hot-swap a new version, cached TIES merges, LRU unloading,
and refusal of files that do not match their manifest."""

import pytest
import torch

from agent.runtime import AdapterRuntime, slot_name
from consolidation.train import Recipe, lora_config
from memory_service.errors import InvalidInput
from memory_service.registry import Registry
from tests.tiny import build_tiny_base, build_tiny_tokenizer


@pytest.fixture
def base():
    return build_tiny_base(build_tiny_tokenizer())


@pytest.fixture
def trainer_base():
    """The same tiny model in the role of a worker process (which never shares the runtime's model)."""
    return build_tiny_base(build_tiny_tokenizer())


def publish_random(base, registry, topic, seed):
    """A random (non-zero) rank-4 adapter in the registry, as a consolidation would publish it."""
    from peft import get_peft_model

    torch.manual_seed(seed)
    pm = get_peft_model(base.model, lora_config(base, Recipe(rank=4, alpha=8, top_layers=2)))
    with torch.no_grad():
        for n, p in pm.named_parameters():
            if "lora_B" in n:
                p.normal_(0, 0.2)
    ref = registry.publish("ns", topic, lambda d: pm.save_pretrained(str(d)), {"recipe": {"rank": 4}, "facts": []})
    base.model = pm.unload()
    return ref


def test_load_merge_cache_hotswap_and_lru(base, trainer_base, tmp_path):
    reg = Registry(tmp_path)
    a, b, c = (publish_random(trainer_base, reg, t, i) for i, t in enumerate(["aa", "bb", "cc"]))
    rt = AdapterRuntime(base, reg, max_loaded=3)
    (plain,), active = rt.answer(["What is the capital of France?"], [])
    assert active is None
    (one,), active = rt.answer(["What is the capital of France?"], [a])
    assert active == slot_name(a) and rt.stats["loads"] == 1
    merged = rt.activate([a, b, c])
    assert merged.startswith("merge_") and rt.stats["merges"] == 1 and rt.stats["loads"] == 3
    assert rt.activate([c, b, a]) == merged and rt.stats["merges"] == 1  # cached, order does not matter
    a2 = publish_random(trainer_base, reg, "aa", 7)  # a new version of topic aa
    assert rt.ensure(a2) == slot_name(a2) and rt.stats["hotswaps"] == 1
    assert merged not in rt.pm.peft_config  # merges holding the old version are gone
    d = publish_random(trainer_base, reg, "dd", 8)
    rt.ensure(d)  # over budget: the least recently used slot goes
    assert rt.stats["evictions"] == 1 and len(rt.slots) == 3


def test_tampered_adapter_is_refused(base, trainer_base, tmp_path):
    reg = Registry(tmp_path)
    ref = publish_random(trainer_base, reg, "aa", 1)
    (ref.path / "adapter_model.safetensors").write_bytes(b"not the weights")
    with pytest.raises(InvalidInput, match="manifest hash"):
        AdapterRuntime(base, reg).ensure(ref)
