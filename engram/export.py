"""Published adapters in the form other LoRA servers load.

vLLM takes engram's peft folders as they are. LoRAX does not: its loader walks every decoder layer from 0 and, at
the first layer without LoRA weights for a projection, drops that projection for the whole adapter
(`LoraWeights.load`, server/lorax_server/adapters/lora.py), so an adapter trained on the top layers only
(`layers_to_transform`) would load and change nothing. The LoRAX form pads the untrained layers with zero LoRA
weights (a zero delta: the same function) and lists every layer as trained.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

LAYER_KEY = re.compile(r"^(?P<head>.*\.layers\.)(?P<layer>\d+)(?P<tail>\..+)$")


def pad_layers(tensors: dict, num_layers: int) -> dict:
    """`tensors` with a zero tensor for every (layer, projection, A/B) the adapter lacks in layers
    0..num_layers-1, shaped like the ones it has."""
    import torch

    like: dict[tuple[str, str], object] = {}
    for key, value in tensors.items():
        if m := LAYER_KEY.match(key):
            like.setdefault((m["head"], m["tail"]), value)
            if int(m["layer"]) >= num_layers:
                raise ValueError(f"{key} names layer {m['layer']}, but the base model has {num_layers} layers")
    out = dict(tensors)
    for (head, tail), value in like.items():
        for i in range(num_layers):
            out.setdefault(f"{head}{i}{tail}", torch.zeros_like(value))
    return out


def to_lorax(folder: Path, num_layers: int) -> None:
    """Rewrite a plain peft folder (in place) in the form LoRAX applies: every layer padded, every layer listed."""
    from safetensors.torch import load_file, save_file

    weights = folder / "adapter_model.safetensors"
    save_file(pad_layers(load_file(str(weights)), num_layers), str(weights), metadata={"format": "pt"})
    config_path = folder / "adapter_config.json"
    config = json.loads(config_path.read_text())
    config["layers_to_transform"] = None
    config["layers_pattern"] = None
    config_path.write_text(json.dumps(config, indent=2))


def base_layers(base: str) -> int:
    """The number of decoder layers of a base model folder (or a local Hugging Face id), from its config."""
    from transformers import AutoConfig

    return int(AutoConfig.from_pretrained(base, local_files_only=True).num_hidden_layers)
