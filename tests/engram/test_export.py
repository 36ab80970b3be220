"""The LoRAX form of a published adapter: every layer padded with zero LoRA weights, the same function in peft."""

import json

import pytest
import torch
from peft import LoraConfig, PeftModel, get_peft_model
from safetensors.torch import load_file

from engram.export import pad_layers, to_lorax
from tests.tiny import build_tiny_base, build_tiny_tokenizer

TARGETS = ["q_proj", "v_proj", "down_proj"]


def test_padding_adds_zeros_for_the_missing_layers_only():
    a = torch.randn(4, 8)
    tensors = {"base_model.model.model.layers.2.self_attn.q_proj.lora_A.weight": a,
               "base_model.model.model.layers.3.self_attn.q_proj.lora_A.weight": a + 1}
    padded = pad_layers(tensors, 4)
    assert sorted(padded) == [f"base_model.model.model.layers.{i}.self_attn.q_proj.lora_A.weight" for i in range(4)]
    assert torch.equal(padded["base_model.model.model.layers.2.self_attn.q_proj.lora_A.weight"], a)
    assert not padded["base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"].any()
    with pytest.raises(ValueError, match="layer 3"):
        pad_layers(tensors, 3)  # an adapter for a deeper model than the base named


def test_the_lorax_form_computes_what_the_published_adapter_computes(tmp_path):
    tok = build_tiny_tokenizer()
    base = build_tiny_base(tok).model
    cfg = LoraConfig(r=4, lora_alpha=8, target_modules=TARGETS, layers_to_transform=[2, 3], task_type="CAUSAL_LM")
    model = get_peft_model(base, cfg)
    torch.manual_seed(1)
    with torch.no_grad():  # a trained adapter: B is no longer zero
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.5)
    folder = tmp_path / "family"
    model.save_pretrained(folder)
    ids = tok("Zorbit Quell lives in Varkaus .", return_tensors="pt").input_ids
    with torch.no_grad():
        published = model(ids).logits
    base = model.unload()

    to_lorax(folder, base.config.num_hidden_layers)
    keys = load_file(str(folder / "adapter_model.safetensors"))
    layers = {int(k.split(".layers.")[1].split(".")[0]) for k in keys}
    assert layers == {0, 1, 2, 3} and len(keys) == 4 * len(TARGETS) * 2
    assert json.loads((folder / "adapter_config.json").read_text())["layers_to_transform"] is None
    padded = PeftModel.from_pretrained(base, folder).eval()
    with torch.no_grad():
        served = padded(ids).logits
    assert torch.allclose(served, published, atol=1e-5)
    with padded.disable_adapter(), torch.no_grad():
        assert not torch.allclose(padded(ids).logits, published, atol=1e-3)  # the adapter does something
