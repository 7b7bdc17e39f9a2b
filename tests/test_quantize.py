"""Faster precisions (`--precision bf16`, `--precision int8`): close to fp32, independent
of batching, and the same output shape; their agreement with fp32 on held-out PTC is
benchmarks/precision_guard.py's."""

import json
import shutil

import numpy as np
import pytest
import torch

from model.quantize import Int8Linear, kernels, quantize_linears, quantize_rows, rescale
from training.cli import main

SENTENCES = [
    "Corrupt elites are destroying everything we hold dear.",
    "The council met on Tuesday.",
    "Everyone knows the plan will fail, and the minister knows it too.",
    "Rain is expected in the afternoon.",
    "word " * 700,  # longer than the encoder's limit: several windows
]


def assert_scored_alike(approx: list[dict], exact: list[dict], text: str, tolerance: float):
    """A faster precision's sentences against fp32's: the same sentences, offsets and
    fields, every probability within `tolerance`, spans that index the text."""
    assert [(s["start"], s["end"]) for s in approx] == [(s["start"], s["end"]) for s in exact]
    for a, e in zip(approx, exact, strict=True):
        assert a.keys() == e.keys()
        diff = np.abs(
            np.array(list(a["probabilities"].values())) - list(e["probabilities"].values())
        )
        assert diff.max() < tolerance
        assert all(text[s["start"] : s["end"]] == s["text"] for s in a["spans"])


def test_int8_linear_is_close_to_the_float_layer():
    torch.manual_seed(0)
    linear = torch.nn.Linear(384, 96)
    x = torch.randn(3, 7, 384)
    x[0, 0, 5] = 40.0  # an outlier, as real activations have
    exact, approx = linear(x), Int8Linear(linear)(x)
    assert approx.shape == exact.shape
    error = (approx - exact).norm(dim=-1) / exact.norm(dim=-1)
    assert error[0, 0] < 0.05  # the outlier's own token is quantized more coarsely
    error[0, 0] = 0
    assert error.max() < 0.012


def test_each_token_is_quantized_alone():
    """A token's result does not depend on the other tokens in the batch (one scale for
    the whole batch would let an outlier elsewhere coarsen it)."""
    torch.manual_seed(1)
    layer = Int8Linear(torch.nn.Linear(64, 32))
    token = torch.randn(1, 64)
    loud = torch.randn(1, 64) * 1000
    alone, beside = layer(token), layer(torch.cat([token, loud]))[:1]
    torch.testing.assert_close(alone, beside, rtol=0, atol=1e-5)


@pytest.mark.skipif(shutil.which("g++") is None, reason="torch.compile needs a C++ compiler")
def test_compiled_kernels_are_used_and_compute_what_the_eager_functions_do():
    """Where torch.compile works, int8 layers use the fused kernels, already compiled for
    scoring (inference mode, any shape), and they quantize exactly as the plain functions
    (what runs without a compiler) do."""
    compiled_quantize, compiled_rescale = kernels()
    assert (compiled_quantize, compiled_rescale) != (quantize_rows, rescale)
    layer = Int8Linear(torch.nn.Linear(384, 96))
    assert (layer.quantize, layer.rescale) == (compiled_quantize, compiled_rescale)
    torch.manual_seed(2)
    with torch.inference_mode(), torch._dynamo.config.patch(error_on_recompile=True):
        rows = torch.randn(50, 384) * torch.rand(50, 1) * 10
        rows[3, 7] = 300.0
        quantized = compiled_quantize(rows)
        shifted, scale, shift = quantized
        products = torch._int_mm(shifted, layer.weight_t)
        args = (products, scale, layer.weight_scale, shift, layer.update)
        rescaled = compiled_rescale(*args)
    for eager, compiled in zip(quantize_rows(rows), quantized, strict=True):
        assert torch.equal(eager, compiled)
    torch.testing.assert_close(rescaled, rescale(*args), rtol=1e-6, atol=1e-6)


def test_quantize_linears_replaces_every_linear_layer():
    net = torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.GELU(), torch.nn.Linear(8, 2))
    assert quantize_linears(net) == 2
    assert not any(isinstance(m, torch.nn.Linear) for m in net.modules())


def test_int8_predictor_scores_like_fp32(trained):
    from model.predictor import Predictor

    folder = trained["transformer"].folder
    fp32, int8 = Predictor(folder), Predictor(folder, "int8")
    assert sum(isinstance(m, Int8Linear) for m in int8.scorer.model.encoder.modules()) > 6
    text = " ".join(SENTENCES)
    with torch._dynamo.config.patch(error_on_recompile=True):  # compiled when loaded
        exact, approx = fp32.score([text])[0], int8.score([text])[0]
    assert_scored_alike(approx, exact, text, tolerance=0.05)
    one_by_one = np.vstack([int8.predict_proba([s]) for s in SENTENCES])
    np.testing.assert_allclose(int8.predict_proba(SENTENCES), one_by_one, atol=1e-2)


def test_bf16_scores_like_fp32_from_the_command_line(trained, tmp_path):
    """`propscan score --precision bf16` writes what fp32 writes: the same sentences and
    offsets, probabilities within 0.02, spans that index the text."""
    text = " ".join(SENTENCES)
    (tmp_path / "a.txt").write_text(text)
    model = str(trained["transformer"].folder)
    for precision in ("fp32", "bf16"):
        out = str(tmp_path / f"{precision}.jsonl")
        args = ["score", str(tmp_path / "a.txt"), "--model", model, "--out", out, "--quiet"]
        assert main([*args, "--precision", precision]) == 0
    exact, approx = (
        json.loads((tmp_path / f"{p}.jsonl").read_text())["sentences"] for p in ("fp32", "bf16")
    )
    assert_scored_alike(approx, exact, text, tolerance=0.02)


def test_bf16_holds_the_network_in_bfloat16_and_ignores_batching(trained):
    from model.predictor import Predictor

    bf16 = Predictor(trained["transformer"].folder, "bf16")
    assert {p.dtype for p in bf16.scorer.model.parameters()} == {torch.bfloat16}
    probs = bf16.predict_proba(SENTENCES)
    assert probs.dtype == np.float32
    one_by_one = np.vstack([bf16.predict_proba([s]) for s in SENTENCES])
    np.testing.assert_allclose(probs, one_by_one, atol=2e-2)


@pytest.mark.parametrize("precision", ["bf16", "int8"])
def test_reduced_precision_refuses_the_baseline(trained, tmp_path, capsys, precision):
    (tmp_path / "a.txt").write_text(SENTENCES[0])
    model = str(trained["baseline"].folder)
    out = str(tmp_path / "out.jsonl")
    code = main(
        ["score", str(tmp_path / "a.txt"), "--model", model, "--out", out, "--precision", precision]
    )
    assert code == 2
    assert f"{precision} applies to transformer models" in capsys.readouterr().err
