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


def publish_zero(base, registry, topic):
    """An adapter that changes nothing (peft starts lora_B at zero): merged with another, it must not move it."""
    from peft import get_peft_model

    torch.manual_seed(99)  # lora_A is random and non-zero
    pm = get_peft_model(base.model, lora_config(base, Recipe(rank=4, alpha=8, top_layers=2)))
    ref = registry.publish("ns", topic, lambda d: pm.save_pretrained(str(d)), {"recipe": {"rank": 4}, "facts": []})
    base.model = pm.unload()
    return ref


def lora_deltas(pm, name: str) -> dict[str, torch.Tensor]:
    from peft.tuners.lora import LoraLayer

    return {n: m.get_delta_weight(name) for n, m in pm.named_modules() if isinstance(m, LoraLayer) and name in m.lora_A}


@pytest.mark.parametrize("density", [1.0, 0.5])
def test_a_merge_combines_the_adapters_weight_changes_not_their_factors(base, trainer_base, tmp_path, density):
    """TIES on each adapter's whole change B @ A. Merging the factors A and B one by one (peft's "ties") mixes one
    adapter's A with another's B: merged with an adapter that changes nothing, an adapter came out changed."""
    from peft.utils.merge_utils import ties

    reg = Registry(tmp_path)
    a, z = publish_random(trainer_base, reg, "aa", 1), publish_zero(trainer_base, reg, "zz")
    rt = AdapterRuntime(base, reg, ties_density=density)
    merged = rt.activate([a, z])
    own, got = lora_deltas(rt.pm, slot_name(a)), lora_deltas(rt.pm, merged)
    assert own.keys() == got.keys() and len(own) == 14  # 7 linears in each of the top 2 layers
    for n, delta in own.items():
        if density == 1.0:  # TIES of (change, no change) is the change itself, and it has the adapter's rank
            torch.testing.assert_close(got[n], delta, atol=1e-5, rtol=1e-4)
        else:  # the change trimmed to its largest half, then brought back to rank 4: the closest rank-4 matrix
            trimmed = ties(torch.stack([delta, torch.zeros_like(delta)]), torch.ones(2), density, "total")
            u, s, vh = torch.linalg.svd(trimmed, full_matrices=False)
            torch.testing.assert_close(got[n], (u[:, :4] * s[:4]) @ vh[:4], atol=1e-4, rtol=1e-3)


def test_tampered_adapter_is_refused(base, trainer_base, tmp_path):
    reg = Registry(tmp_path)
    ref = publish_random(trainer_base, reg, "aa", 1)
    (ref.path / "adapter_model.safetensors").write_bytes(b"not the weights")
    with pytest.raises(InvalidInput, match="manifest hash"):
        AdapterRuntime(base, reg).ensure(ref)


def test_concurrent_questions_share_one_generate_call_each_with_its_own_adapter(base, trainer_base, tmp_path):
    """Four users at once (three adapters, one merge, one base-model row) are answered in one batch, and each
    gets what it would have got alone."""
    import threading

    reg = Registry(tmp_path)
    a, b, c = (publish_random(trainer_base, reg, t, i) for i, t in enumerate(["aa", "bb", "cc"]))
    rt = AdapterRuntime(base, reg, max_loaded=4, batch_size=8, batch_wait_ms=2000)
    users = [("What is the capital of France?", [a]), ("Who wrote Hamlet?", [b]),
             ("What is the capital of France?", [b, c]), ("Who wrote Hamlet?", [])]
    got: dict[int, tuple[str, str | None, float]] = {}
    start = threading.Barrier(len(users))

    def ask(i: int) -> None:
        start.wait()
        got[i] = rt.answer_one(users[i][0], users[i][1], None, 8)

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(users))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert rt.stats["batches"] == 1 and rt.stats["batched_rows"] == len(users)
    # one at a time, with swaps, on a second copy of the same base model
    alone = AdapterRuntime(build_tiny_base(build_tiny_tokenizer()), reg, max_loaded=4)
    for i, (question, refs) in enumerate(users):
        ((answer, confidence),), adapter = alone.answer_scored([question], refs, max_new_tokens=8)
        assert got[i][0] == answer, (i, got[i], answer)
        assert (got[i][1] is None) == (adapter is None)
        assert 0 < confidence <= 1 and abs(got[i][2] - confidence) < 1e-3  # the padded row scores as it does alone
    assert len({got[i][0] for i in range(len(users))}) > 1  # the adapters really differ per row


def test_a_bad_adapter_fails_only_its_own_row_of_a_batch(base, trainer_base, tmp_path):
    import threading

    reg = Registry(tmp_path)
    good, bad = (publish_random(trainer_base, reg, t, i) for i, t in enumerate(["good", "bad"]))
    (bad.path / "adapter_model.safetensors").write_bytes(b"not the published weights")
    rt = AdapterRuntime(base, reg, max_loaded=4, batch_size=8, batch_wait_ms=2000)
    got: dict[str, object] = {}
    start = threading.Barrier(3)

    def ask(name, refs):
        start.wait()
        try:
            got[name] = rt.answer_one("Who wrote Hamlet?", refs, None, 4)[:2]
        except InvalidInput as exc:
            got[name] = exc

    threads = [threading.Thread(target=ask, args=a) for a in (("good", [good]), ("bad", [bad]), ("base", []))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert isinstance(got["bad"], InvalidInput) and "manifest hash" in str(got["bad"])
    assert got["good"][1] == slot_name(good) and got["base"][1] is None
    assert rt.stats["batches"] == 1 and rt.stats["batched_rows"] == 2


def test_every_forward_pass_runs_on_the_runtimes_one_torch_thread(base, trainer_base, tmp_path):
    """Whichever thread asks (the caller's, the batcher's, a server pool's), torch work happens on one thread."""
    import threading

    registry = Registry(tmp_path)
    ref = publish_random(trainer_base, registry, "t", 1)
    seen: set[str] = set()
    base.model.register_forward_hook(lambda *a: seen.add(threading.current_thread().name))
    rt = AdapterRuntime(base, registry, batch_size=4, batch_wait_ms=50)
    callers = [threading.Thread(target=rt.answer_one, args=(f"q{i}", [ref] if i % 2 else [], None, 3))
               for i in range(4)]
    for t in callers:
        t.start()
    for t in callers:
        t.join()
    rt.answer(["direct"], [ref], max_new_tokens=2)
    assert len(seen) == 1 and seen.pop().startswith("engram-torch")


def test_on_own_thread_returns_the_result_or_raises_the_error():
    import threading

    from memory_service.threads import on_own_thread

    assert on_own_thread(lambda a, b=0: (a + b, threading.current_thread().name), 1, b=2)[0] == 3
    assert on_own_thread(lambda: threading.current_thread()) is not threading.current_thread()
    with pytest.raises(KeyError, match="missing"):
        on_own_thread(lambda: {}["missing"])
