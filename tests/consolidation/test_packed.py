"""Packed linear layers and fused decoder layers answer as the plain ones do: same logits (to fp32 rounding), same
greedy tokens, with and without LoRA adapters (on every layer or some) and in mixed-adapter batches; training runs
the plain product and its gradients."""

from __future__ import annotations

import copy

import pytest
import torch
from peft import LoraConfig, get_peft_model
from torch import nn

from consolidation.model import generate, load_base
from consolidation.packed import FusedLlamaLayer, PackedLinear, pack_linears, packing_works
from tests.tiny import build_tiny_base

pytestmark = pytest.mark.skipif(not packing_works(), reason="this torch build has no oneDNN linear ops")


def lora(model, name="one", seed=1, pm=None, layers=None):
    """A LoRA adapter with nonzero B (so it changes the output): a new PeftModel, or one more adapter on `pm`."""
    cfg = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj", "down_proj"], lora_dropout=0.0,
                     layers_to_transform=layers)
    torch.manual_seed(seed)  # A is drawn at random as the adapter is added
    if pm is None:
        pm = get_peft_model(model, cfg, adapter_name=name)
    else:
        pm.add_adapter(name, cfg)
    with torch.no_grad():
        for n, p in pm.named_parameters():
            if f"lora_B.{name}" in n:
                p.normal_(0, 0.2)
    return pm.eval()  # peft returns it in training mode, where the plain product runs


@pytest.fixture
def pair(tiny_tokenizer):
    """The tiny base twice: plain, and a copy with its linears packed."""
    plain = build_tiny_base(tiny_tokenizer)
    packed = copy.deepcopy(plain)
    n = pack_linears(packed.model)
    return plain, packed, n


def linears(model):
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


def test_every_linear_is_packed_and_the_logits_stay_the_same(pair, tiny_tokenizer):
    plain, packed, n = pair
    assert n == len(linears(packed.model)) == 4 * 7 + 1  # q k v o gate up down per layer, and the lm head
    assert all(type(m) is PackedLinear for m in linears(packed.model))
    ids = tiny_tokenizer(["the user lives in Oslo", "who is my supervisor"], return_tensors="pt",
                         padding=True)["input_ids"]
    with torch.no_grad():
        a, b = plain.model(ids).logits, packed.model(ids).logits
    assert torch.allclose(a, b, atol=1e-4) and not torch.equal(a, torch.zeros_like(a))


def test_decoder_layers_are_fused_and_the_fused_copies_answer(pair, tiny_tokenizer):
    """Zeroing a fused layer's packed gate/up weight shows the fused forward is what answers; an adapter on the
    layer sends it back to transformers' forward and its own linears, packed the first time they are used."""
    plain, packed, _ = pair
    layers = packed.model.model.layers
    assert all(type(layer) is FusedLlamaLayer for layer in layers)
    assert "_packed" not in layers[0].self_attn.q_proj.__dict__  # packed only if used alone
    ids = tiny_tokenizer(["the user lives in Oslo"], return_tensors="pt")["input_ids"]
    with torch.no_grad():
        before = packed.model(ids).logits
        layers[0]._gate_up.zero_()
        zeroed = packed.model(ids).logits
    assert not torch.allclose(before, zeroed, atol=1e-3)
    pm, pp = lora(plain.model, layers=[0]), lora(packed.model, layers=[0])
    with torch.no_grad():
        assert torch.allclose(pm(ids).logits, pp(ids).logits, atol=1e-4)
    assert "_packed" in layers[0].self_attn.q_proj.base_layer.__dict__


def test_adapters_on_some_layers_answer_as_on_plain_ones(pair, tiny_tokenizer):
    """Fused layers without an adapter and transformers' layers with one, in one model."""
    plain, packed, _ = pair
    pa, pb = lora(plain.model, layers=[1, 3]), lora(packed.model, layers=[1, 3])
    ids = tiny_tokenizer(["the user lives in Oslo", "who is my supervisor"], return_tensors="pt",
                         padding=True)["input_ids"]
    with torch.no_grad():
        la, lb = pa(ids).logits, pb(ids).logits
        with pb.disable_adapter():
            bare = pb(ids).logits
    assert torch.allclose(la, lb, atol=1e-4)
    assert not torch.allclose(lb, bare, atol=1e-2)
    qs = ["Where does the user live?", "Who is the user's supervisor?", "What is the dog called?"]
    assert generate(pb, tiny_tokenizer, qs, 12) == generate(pa, tiny_tokenizer, qs, 12)


def test_answers_use_the_packed_copy_and_training_the_weight_itself(tiny_tokenizer):
    """The packed copy is taken once: changing the weight afterwards shows which product ran."""
    base = build_tiny_base(tiny_tokenizer)
    pack_linears(base.model)
    ids = tiny_tokenizer(["the user lives in Oslo"], return_tensors="pt")["input_ids"]
    with torch.no_grad():
        before = base.model(ids).logits
        base.model.lm_head.weight.mul_(2)
        assert torch.equal(base.model(ids).logits, before)
    base.model.train()
    assert not torch.allclose(base.model(ids).logits, before, atol=1e-2)


def test_greedy_answers_are_the_same(pair, tiny_tokenizer):
    plain, packed, _ = pair
    qs = ["Where does the user live?", "Who is the user's supervisor?", "What is the dog called?"]
    assert generate(packed.model, tiny_tokenizer, qs, 12) == generate(plain.model, tiny_tokenizer, qs, 12)


def test_adapters_on_packed_layers_change_the_output_as_on_plain_ones(pair, tiny_tokenizer):
    plain, packed, _ = pair
    pa, pb = lora(plain.model), lora(packed.model)
    ids = tiny_tokenizer(["the user lives in Oslo"], return_tensors="pt")["input_ids"]
    with torch.no_grad():
        la, lb = pa(ids).logits, pb(ids).logits
        with pb.disable_adapter():
            bare = pb(ids).logits
    assert torch.allclose(la, lb, atol=1e-4)
    assert not torch.allclose(lb, bare, atol=1e-2)  # the adapter does act on the packed model


def test_mixed_adapter_batches_match(pair, tiny_tokenizer):
    plain, packed, _ = pair
    outs = []
    for b in (plain, packed):
        pm = lora(b.model, "one", seed=1)
        lora(None, "two", seed=2, pm=pm)
        outs.append(generate(pm, tiny_tokenizer, ["Where does the user live?"] * 3, 10,
                             adapter_names=["one", "two", "__base__"]))
    assert outs[0] == outs[1]
    assert len(set(outs[1])) > 1  # the rows did get different adapters


def test_training_runs_the_plain_product_and_gets_the_same_gradients(pair, tiny_tokenizer):
    plain, packed, _ = pair
    ids = tiny_tokenizer(["the user lives in Oslo"], return_tensors="pt")["input_ids"]
    grads = []
    for b in (plain, packed):
        pm = lora(b.model)
        pm.train()
        pm(ids, labels=ids).loss.backward()
        grads.append({n: p.grad.clone() for n, p in pm.named_parameters() if p.requires_grad})
    assert grads[0].keys() == grads[1].keys() and grads[0]
    for n in grads[0]:
        assert torch.allclose(grads[0][n], grads[1][n], atol=1e-6), n


def test_only_fp32_cpu_layers_are_packed(tiny_tokenizer):
    base = build_tiny_base(tiny_tokenizer)
    base.model.to(torch.bfloat16)
    assert pack_linears(base.model) == 0
    assert not any(type(m) is PackedLinear for m in base.model.modules())


def test_a_layer_whose_weight_moved_to_another_dtype_runs_the_plain_product(tiny_tokenizer):
    base = build_tiny_base(tiny_tokenizer)
    pack_linears(base.model)
    base.model.to(torch.float64)
    ids = tiny_tokenizer(["the user lives in Oslo"], return_tensors="pt")["input_ids"]
    with torch.no_grad():
        assert base.model(ids).logits.dtype == torch.float64


def test_a_loaded_base_model_is_packed_unless_settings_say_not(tmp_path, tiny_base):
    tiny_base.model.save_pretrained(tmp_path)
    tiny_base.tokenizer.save_pretrained(tmp_path)
    assert all(type(m) is PackedLinear for m in linears(load_base(str(tmp_path), "cpu").model))
    assert not any(type(m) is PackedLinear for m in linears(load_base(str(tmp_path), "cpu", pack=False).model))
