"""The command line as a user meets it: help, config files, stats, stdin (`ui`: test_ui.py)."""

import subprocess
import sys

import pytest

from tests.conftest import ROOT
from training.cli import build_parser, main
from training.config import TransformerConfig, build_config


def test_train_help_documents_every_option(capsys):
    with pytest.raises(SystemExit):
        main(["train", "transformer", "--help"])
    out = capsys.readouterr().out
    for flag in (
        "--base-model",
        "--epochs",
        "--learning-rate",
        "--patience",
        "--seed",
        "--data",
        "--config",
        "--max-length",
    ):
        assert flag in out
    assert "all-mpnet-base-v2 once fetched, else all-MiniLM-L6-v2" in " ".join(out.split())
    squeezed = "".join(out.split())  # argparse wraps lines, even inside a hyphenated name
    for recipe_default in ("epochs(default:2forall-mpnet-base-v2,else3)", "default:8forall-mpnet"):
        assert recipe_default in squeezed
    assert "(default: propscan/<data names>)" in out
    assert "default: None" not in out  # unset options say what happens instead


def test_config_file_then_flags(tmp_path):
    config = tmp_path / "run.toml"
    config.write_text('epochs = 2.0\nlearning_rate = 3e-5\ndata = ["corpus", "extra.jsonl"]\n')
    args = build_parser().parse_args(
        ["train", "transformer", "--config", str(config), "--epochs", "4"]
    )
    built = build_config(TransformerConfig, args)
    assert built.epochs == 4.0  # the flag wins over the file
    assert built.learning_rate == 3e-5 and built.data == ["corpus", "extra.jsonl"]
    assert built.seed == 42  # untouched default
    config.write_text("epochz = 2\n")
    with pytest.raises(ValueError, match="unknown option"):
        build_config(
            TransformerConfig,
            build_parser().parse_args(["train", "transformer", "--config", str(config)]),
        )
    with pytest.raises(ValueError, match="--precision: fp32 or bf16, not 'fp16'"):
        build_config(
            TransformerConfig,
            build_parser().parse_args(["train", "transformer", "--precision", "fp16"]),
        )


def test_stats_of_the_corpus(capsys):
    assert main(["data", "stats", str(ROOT / "data" / "corpus")]) == 0
    out = capsys.readouterr().out
    assert "| documents" in out and "| denial" in out and "train" in out and "test" in out


def test_score_from_stdin(trained, mlflow_store):
    text = "Headline\n\nThe corrupt elites lied again. The council met on Monday.\n"
    proc = subprocess.run(
        [sys.executable, "-m", "training.cli", "score", "-", "--quiet", "--out", "stdin.jsonl"],
        input=text.encode(),
        capture_output=True,
        cwd=mlflow_store,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    assert b"documents scored" in proc.stdout
    assert (mlflow_store / "stdin.jsonl").read_text().count("\n") == 1
