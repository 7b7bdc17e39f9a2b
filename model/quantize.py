"""int8 inference on CPU: the encoder's linear layers in 8-bit integers.

Weights are quantized once, symmetrically per output channel. Activations are quantized
at each call per token, asymmetrically: each token's vector gets its own scale and zero
point, so one outlier token cannot coarsen the others, and the mostly positive GELU
outputs use all 256 levels. Measured on the held-out PTC test split against fp32
(benchmarks/precision_guard.py): PyTorch's dynamic quantization (one scale per batch) changed
some technique decision in 8-13% of the sentences; symmetric per-token 2.4%; this 1.6%.
Per token also means a sentence scores the same whatever it is batched with. The integer
product is `torch._int_mm` (int8 x int8 -> int32); quantizing and scaling back are each one
loop compiled by torch.compile; attention arithmetic, LayerNorm and the heads stay in
float32.
"""

from __future__ import annotations

import functools
import threading
import warnings

import torch


def quantize_rows(rows: torch.Tensor):
    """Each row (token) as int8 with its own scale and low end: (q, scale, shift) where
    x = scale * (q + 128) + low = scale * q + shift."""
    low = rows.amin(dim=1, keepdim=True)
    scale = (rows.amax(dim=1, keepdim=True) - low).clamp(min=1e-8) / 255
    inverse = 1 / scale
    # (x - low) / scale lies in [0, 255], minus 128 in int8's range; the clamp catches
    # rounding where |low| dwarfs the row's range (a cast out of range is undefined).
    shifted = (rows * inverse - (low * inverse + 128)).round_().clamp_(-128, 127)
    shifted = shifted.to(torch.int8)
    return shifted, scale, low + 128 * scale


def rescale(products, scale, weight_scale, shift, update):
    """The int32 products back to float: x . w = s * (q . w) + shift * sum(w), plus bias."""
    return products.float() * scale * weight_scale + shift * update[0] + update[1]


_COMPILING = threading.Lock()


def kernels():
    """The two kernels, compiled once per process even when threads load models at once."""
    with _COMPILING:
        return compiled_kernels()


@functools.cache
def compiled_kernels():
    """`quantize_rows` and `rescale` compiled by torch.compile, which fuses each into one
    loop over the tensor: eager PyTorch spends about 45% of int8 time in their separate
    passes (1.29x fp32 against 1.62x compiled, measured side by side on one thread). The
    compiled code needs a C++ compiler; without one the same functions run eagerly. Both
    compile here, in inference mode as scoring runs them, so scoring finds them compiled.

    The warm-up tensors have a scoring batch's size (64 sentences of 32 tokens, MiniLM's
    width): the compiler decides from the first sizes it sees whether a loop is worth
    splitting over threads, and for a toy size it keeps the per-token quantization on one
    thread for good (at two threads: 1.74 ms against 0.92 ms for 2,048 x 1,536)."""
    try:
        compiled = (
            torch.compile(quantize_rows, dynamic=True),
            torch.compile(rescale, dynamic=True),
        )
        rows, width = 64 * 32, 384
        weight_scale, update = torch.ones(width), torch.ones(2, width)  # as a layer's are
        with torch.inference_mode():  # activations are inference tensors, as in scoring
            _, scale, shift = compiled[0](torch.randn(rows, width))
            products = torch.ones(rows, width, dtype=torch.int32)
            compiled[1](products, scale, weight_scale, shift, update)
        return compiled
    except Exception as err:  # any failure to compile means eager
        warnings.warn(f"int8 runs without torch.compile ({err}); it is slower", stacklevel=2)
        return quantize_rows, rescale


class Int8Linear(torch.nn.Module):
    """A `torch.nn.Linear` computed as int8 x int8 -> int32 and scaled back to float.

    Token x (scale s, low end m) is stored as q = round((x - m) / s) - 128, so
    x . w = s * (q . w) + (m + 128 s) * sum(w): after the integer product, one scaling
    and one rank-2 update (that term and the bias) per output."""

    def __init__(self, linear: torch.nn.Linear):
        super().__init__()
        weight = linear.weight.detach().float()
        scale = weight.abs().amax(dim=1, keepdim=True).clamp(min=1e-8) / 127
        quantized = (weight / scale).round().to(torch.int8)
        self.register_buffer("weight_t", quantized.t().contiguous())  # (in, out)
        self.register_buffer("weight_scale", scale.flatten().clone())  # (out,)
        bias = torch.zeros(weight.shape[0]) if linear.bias is None else linear.bias.detach()
        # Rows of the rank-2 update: each output's scaled weight sum, and its bias.
        weight_sum = quantized.sum(dim=1, dtype=torch.int32).float() * scale.squeeze(1)
        self.register_buffer("update", torch.stack([weight_sum, bias.float()]))  # (2, out)
        self.quantize, self.rescale = kernels()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shifted, scale, shift = self.quantize(x.reshape(-1, x.shape[-1]))
        products = torch._int_mm(shifted, self.weight_t)
        out = self.rescale(products, scale, self.weight_scale, shift, self.update)
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
