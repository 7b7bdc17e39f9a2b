"""The default encoder and its recipe: what `propscan train transformer` trains unless told."""

import pytest

from training.cli import build_parser
from training.config import TransformerConfig, build_config
from training.encoders import ENCODERS
from training.recipes import announce, native_bf16


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PROPSCAN_CACHE", str(tmp_path))
    return tmp_path


def cache_mpnet(cache):
    """The files `propscan encoders fetch all-mpnet-base-v2` leaves (their content is not
    read to choose the default)."""
    folder = cache / "encoders" / "all-mpnet-base-v2"
    for path in ENCODERS["all-mpnet-base-v2"].sha256:
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_text("{}")


def test_a_fresh_install_trains_the_shipped_minilm_and_says_how_to_get_mpnet(cache):
    config = TransformerConfig()
    assert (config.base_model, config.frozen_layers, config.precision, config.epochs) == (
        "all-MiniLM-L6-v2",
        0,
        "fp32",
        3.0,
    )
    assert "propscan encoders fetch all-mpnet-base-v2" in announce(config)


def test_once_fetched_mpnet_is_the_default_with_its_cpu_recipe(cache):
    cache_mpnet(cache)
    config = TransformerConfig()
    assert (config.base_model, config.frozen_layers, config.epochs) == ("all-mpnet-base-v2", 8, 2)
    assert config.precision == ("bf16" if native_bf16() else "fp32")
    assert announce(config).startswith("fine-tuning all-mpnet-base-v2: 2 epochs, 8 frozen layers")
    assert "fetch" not in announce(config)


def test_bf16_only_where_the_hardware_computes_it(cache, monkeypatch):
    monkeypatch.setattr("training.recipes.native_bf16", lambda: False)
    assert TransformerConfig(base_model="all-mpnet-base-v2").precision == "fp32"
    monkeypatch.setattr("training.recipes.native_bf16", lambda: True)
    assert TransformerConfig(base_model="all-mpnet-base-v2").precision == "bf16"
    assert TransformerConfig(base_model="all-MiniLM-L6-v2").precision == "fp32"


def test_options_given_win_over_the_recipe(cache, tmp_path):
    cache_mpnet(cache)
    hub = TransformerConfig(base_model="sentence-transformers/all-mpnet-base-v2")
    assert (hub.frozen_layers, hub.epochs) == (8, 2)  # the hub name has the same recipe
    other = TransformerConfig(base_model=str(tmp_path / "my-encoder"))
    assert (other.frozen_layers, other.precision, other.epochs) == (0, "fp32", 3)
    options = tmp_path / "run.toml"
    options.write_text("frozen_layers = 6\n")
    args = build_parser().parse_args(
        ["train", "transformer", "--config", str(options), "--epochs", "3", "--precision", "fp32"]
    )
    built = build_config(TransformerConfig, args)
    assert (built.base_model, built.frozen_layers, built.epochs, built.precision) == (
        "all-mpnet-base-v2",
        6,
        3.0,
        "fp32",
    )
    args = build_parser().parse_args(["train", "transformer", "--frozen-layers", "4"])
    assert build_config(TransformerConfig, args).frozen_layers == 4  # typed, not "4"
