"""int8 inference on CPU: the encoder's linear layers in 8-bit integers.

Weights are quantized once, symmetrically per output channel. Activations are quantized
at each call per token, asymmetrically: each token's vector gets its own scale and zero
point, so one outlier token cannot coarsen the others, and the mostly positive GELU
outputs use all 256 levels. Measured on the held-out PTC test split against fp32
(benchmarks/int8_guard.py): PyTorch's dynamic quantization (one scale per batch) changed
some technique decision in 8-13% of the sentences; symmetric per-token 2.4%; this 1.4%.
Per token also means a sentence scores the same whatever it is batched with. The integer
product is `torch._int_mm` (int8 x int8 -> int32); attention arithmetic, LayerNorm and the
heads stay in float32.
"""

from __future__ import annotations

import torch


class Int8Linear(torch.nn.Module):
    """A `torch.nn.Linear` computed as int8 x int8 -> int32 and scaled back to float.

    A token x is stored as q = round(x / s) + z, so x . w = s * (q . w - z * sum(w)): the
    integer product needs one correction per token and output, from the weights' sums."""

    def __init__(self, linear: torch.nn.Linear):
        super().__init__()
        weight = linear.weight.detach().float()
        scale = weight.abs().amax(dim=1, keepdim=True).clamp(min=1e-8) / 127
        quantized = (weight / scale).round().to(torch.int8)
        self.register_buffer("weight_t", quantized.t().contiguous())  # (in, out)
        self.register_buffer("weight_scale", scale.t().contiguous())  # (1, out)
        self.register_buffer("weight_sum", quantized.sum(dim=1, dtype=torch.int32).float())
        self.register_buffer("bias", None if linear.bias is None else linear.bias.detach())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows = x.reshape(-1, x.shape[-1])
        low, high = torch.aminmax(rows, dim=1, keepdim=True)
        scale = (high - low).clamp(min=1e-8).div_(255)
        zero = (-128 - low / scale).round_()
        quantized = (rows / scale).add_(zero).round_().clamp_(-128, 127).to(torch.int8)
        out = torch._int_mm(quantized, self.weight_t).float()
        out.addr_(zero.squeeze(1), self.weight_sum, alpha=-1)
        out.mul_(scale).mul_(self.weight_scale)
        if self.bias is not None:
            out.add_(self.bias)
        return out.reshape(*x.shape[:-1], out.shape[-1])


def quantize_linears(module: torch.nn.Module) -> int:
    """Replace every `torch.nn.Linear` inside `module` by an `Int8Linear`; returns how many."""
    replaced = 0
    for name, child in module.named_children():
        if isinstance(child, torch.nn.Linear):
            setattr(module, name, Int8Linear(child))
            replaced += 1
        else:
            replaced += quantize_linears(child)
    return replaced
