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
"""

from __future__ import annotations

import logging

import torch
import torch.nn.functional as F
from torch import nn

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
        return torch.ops.mkldnn._linear_pointwise(x, self._packed, self.bias, "none", [], "")


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
    """Pack every plain fp32 CPU nn.Linear of `model` in place; returns how many were packed (0 where this torch
    cannot). Call it on a loaded base model before adapters are attached: peft wraps the packed layers as it wraps
    any nn.Linear, and its adapters' own small products stay as they are."""
    layers = [m for m in model.modules() if type(m) is nn.Linear
              and m.weight.device.type == "cpu" and m.weight.dtype == torch.float32]
    if not layers or not packing_works():
        return 0
    with torch.no_grad():
        for m in layers:
            m._packed = torch.ops.mkldnn._reorder_linear_weight(m.weight.detach(), None)
            m.__class__ = PackedLinear
    return len(layers)
