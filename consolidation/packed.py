"""Linear layers with their weights packed once for oneDNN, for answering on the CPU.

Generating a token reads every weight of the model once (540 MB in fp32 for the 135M base), so a token's time is
how fast the matrix products read memory. `F.linear` on fp32 CPU tensors goes to MKL's sgemm, which reads at a
third of the memory speed on the machines measured here (16 GB/s of 47 GB/s on an AMD EPYC, 2 cores); oneDNN with
the weight reordered once into its blocked layout reads at ~45 GB/s. That is the same product (fp32, only the
order of the additions differs: ~1e-5) and the path torch's own compiler takes for frozen CPU linears
(`torch.ops.mkldnn._reorder_linear_weight` / `_linear_pointwise`, used by inductor's weight prepacking).

The packed copy is made from frozen weights and is used only where no gradient is needed (`eval()` and no input
that requires grad); a module in training mode, or a layer whose weight has changed device or dtype, runs the plain
`F.linear`. Nothing here folds an adapter into the base weights (peft's `merge_adapter` would change a weight
under its packed copy): adapters stay beside the base layers. The copy costs one more copy of the linear weights
in memory.

Once the products run at memory speed, a quarter of a token's time is eager execution's cost per op: some 50 small
ops and 7 products per decoder layer, each a Python call and a dispatch. `FusedLlamaLayer` runs a Llama decoder
layer that carries no adapter with 4 products instead of 7 (q, k and v packed as one weight, gate and up as one)
and one fused op per norm, the same arithmetic otherwise (transformers' own rotary and attention functions); the
phone-book evaluation's answers came 684 -> 551 ms p50 with all 141 answers the same (docs/results.md). A layer
with an adapter on any of its linears, in training mode, or given anything but fp32 CPU input runs transformers'
forward unchanged, and its linears pack their own copies the first time they are used.
"""

from __future__ import annotations

import logging

import torch
import torch.nn.functional as F
from torch import nn
from transformers.integrations.sdpa_attention import sdpa_attention_forward
from transformers.models.llama import modeling_llama

log = logging.getLogger(__name__)

# Largest difference accepted between the packed product and F.linear in the check run before packing; fp32 with
# another order of additions differs by ~1e-5 on these sizes.
TOLERANCE = 1e-3


class PackedLinear(nn.Linear):
    """An nn.Linear (peft and transformers see one) that multiplies with its packed copy when no grad is needed."""

    _packed: torch.Tensor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.weight
        if (self.training or (torch.is_grad_enabled() and x.requires_grad) or w.device.type != "cpu"
                or w.dtype != torch.float32 or x.dtype != torch.float32):
            return F.linear(x, w, self.bias)
        packed = self.__dict__.get("_packed")
        if packed is None:  # a fused layer's linear, used alone once an adapter wraps it
            with torch.no_grad():
                packed = self._packed = _pack(w)
        return _product(x, packed, self.bias)


def _pack(weight: torch.Tensor) -> torch.Tensor:
    return torch.ops.mkldnn._reorder_linear_weight(weight.detach(), None)


def _product(x: torch.Tensor, packed: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    return torch.ops.mkldnn._linear_pointwise(x, packed, bias, "none", [], "")


class FusedLlamaLayer(modeling_llama.LlamaDecoderLayer):
    """A Llama decoder layer that answers with fused packed products while none of its linears carries an adapter
    (the module docstring says why); otherwise transformers' own forward."""

    _qkv: torch.Tensor  # q, k and v weights, packed as one
    _gate_up: torch.Tensor

    def _fused(self, x: torch.Tensor) -> bool:
        a = self.self_attn
        return (not self.training and x.dtype == torch.float32 and x.device.type == "cpu"
                and not (torch.is_grad_enabled() and x.requires_grad)
                and a.q_proj.weight.dtype == torch.float32 and a.q_proj.weight.device.type == "cpu"
                and a.config._attn_implementation == "sdpa"
                # peft puts a wrapper in place of each linear it adapts
                and all(type(m) is PackedLinear for m in _linears(self)))

    def forward(self, hidden_states: torch.Tensor, attention_mask: torch.Tensor | None = None,
                position_ids: torch.Tensor | None = None, cache=None, use_cache: bool | None = False,
                position_embeddings: tuple[torch.Tensor, torch.Tensor] | None = None, **kwargs) -> torch.Tensor:
        if not self._fused(hidden_states) or kwargs.get("output_attentions"):
            return super().forward(hidden_states, attention_mask=attention_mask, position_ids=position_ids,
                                   cache=cache, use_cache=use_cache, position_embeddings=position_embeddings,
                                   **kwargs)
        a, mlp = self.self_attn, self.mlp
        shape = (*hidden_states.shape[:-1], -1, a.head_dim)
        x = F.rms_norm(hidden_states, (self.hidden_size,), self.input_layernorm.weight,
                       self.input_layernorm.variance_epsilon)
        q, k, v = (t.view(shape).transpose(1, 2) for t in _product(x, self._qkv).split(self._qkv_sizes, -1))
        cos, sin = position_embeddings
        q, k = modeling_llama.apply_rotary_pos_emb(q, k, cos, sin)
        if cache is not None:
            k, v = cache.update(k, v, a.layer_idx, kwargs=kwargs)
        out, _ = sdpa_attention_forward(a, q, k, v, attention_mask, scaling=a.scaling)
        h = hidden_states + _product(out.reshape(*shape[:-2], -1), a.o_proj._packed)
        x = F.rms_norm(h, (self.hidden_size,), self.post_attention_layernorm.weight,
                       self.post_attention_layernorm.variance_epsilon)
        gate, up = _product(x, self._gate_up).chunk(2, -1)
        return h + _product(F.silu(gate).mul_(up), mlp.down_proj._packed)


def _linears(layer: nn.Module) -> tuple[nn.Module, ...]:
    a, mlp = layer.self_attn, layer.mlp
    return a.q_proj, a.k_proj, a.v_proj, a.o_proj, mlp.gate_proj, mlp.up_proj, mlp.down_proj


def _fusable(layer: nn.Module) -> bool:
    # silu: the fused forward calls F.silu itself
    return (type(layer) is modeling_llama.LlamaDecoderLayer and layer.mlp.config.hidden_act == "silu"
            and all(type(m) is PackedLinear and m.bias is None for m in _linears(layer)))


def packing_works() -> bool:
    """Whether this torch build has oneDNN's linear ops and they give F.linear's result."""
    if not torch.backends.mkldnn.is_available():
        return False
    try:
        with torch.no_grad():
            w, x = torch.randn(96, 64), torch.randn(3, 5, 64)
            packed = torch.ops.mkldnn._reorder_linear_weight(w, None)
            got = torch.ops.mkldnn._linear_pointwise(x, packed, None, "none", [], "")
            return bool(torch.allclose(got, F.linear(x, w), atol=TOLERANCE))
    except (RuntimeError, AttributeError) as exc:  # an op missing from this build
        log.info("oneDNN linear packing unavailable: %s", exc)
        return False


def pack_linears(model: nn.Module) -> int:
    """Pack every plain fp32 CPU nn.Linear of `model` in place, and fuse the Llama decoder layers whose linears
    all are; returns how many linears were packed (0 where this torch cannot). Call it on a loaded base model
    before adapters are attached: peft wraps the packed layers as it wraps any nn.Linear, and its adapters' own
    small products stay as they are."""
    layers = [m for m in model.modules() if type(m) is nn.Linear
              and m.weight.device.type == "cpu" and m.weight.dtype == torch.float32]
    if not layers or not packing_works():
        return 0
    for m in layers:
        m.__class__ = PackedLinear
    lazy: set[int] = set()  # q, k, v, gate and up of fused layers pack their own copies only if used alone
    with torch.no_grad():
        for layer in [m for m in model.modules() if _fusable(m)]:
            a, mlp = layer.self_attn, layer.mlp
            layer._qkv = _pack(torch.cat([a.q_proj.weight, a.k_proj.weight, a.v_proj.weight]))
            layer._qkv_sizes = [a.q_proj.out_features, a.k_proj.out_features, a.v_proj.out_features]
            layer._gate_up = _pack(torch.cat([mlp.gate_proj.weight, mlp.up_proj.weight]))
            layer.__class__ = FusedLlamaLayer
            lazy |= {id(m) for m in _linears(layer) if m not in (a.o_proj, mlp.down_proj)}
        for m in layers:
            if id(m) not in lazy:
                m._packed = _pack(m.weight)
    return len(layers)
