"""Adapting an encoder to unlabeled news: a real masked-LM run logged in MLflow, then a
transformer fine-tuned on the adapted encoder through its run URI."""

import shutil
from pathlib import Path

import pytest
from safetensors.torch import load_file

from tests.conftest import SHARED
from training.cli import main

NEWS = SHARED / "data" / "unlabeled" / "openwebtext-articles"


@pytest.fixture
def own_store(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.setenv("PROPSCAN_CACHE", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def archive(tmp_path) -> Path:
    """Twelve news articles, one binary file and one empty one."""
    if not NEWS.is_dir():
        pytest.skip(f"unlabeled news not found at {NEWS}")
    folder = tmp_path / "archive"
    folder.mkdir()
    for path in sorted(NEWS.glob("*.txt"))[:12]:
        shutil.copy(path, folder / path.name)
    (folder / "scan.txt").write_bytes(b"\x00\x01PDF")
    (folder / "empty.txt").write_text("")
    return folder


def test_adapting_learns_the_archive_and_training_takes_the_adapted_encoder(
    own_store, archive, capsys
):
    from mlflow.tracking import MlflowClient

    from model.meta import load_meta
    from training.adapt import download_encoder
    from training.config import TransformerConfig
    from training.recipes import SHIPPED_ENCODER
    from training.run import train
    from training.transformer import resolve_base_model

    args = ["encoders", "adapt", str(archive), "--epochs", "0.5", "--batch-size", "8"]
    assert main([*args, "--threads", "2"]) == 1  # unreadable files are named, not fatal
    out, err = capsys.readouterr()
    assert "scan.txt: binary file" in err and "empty.txt" in err
    uri = out.split("--base-model ")[-1].strip()
    assert uri.startswith("runs:/") and uri.endswith("/encoder")

    run = MlflowClient().get_run(uri.split("/")[1])
    metrics = run.data.metrics
    # An untrained masked-LM head starts near chance (ln 30522 = 10.3): a few steps on the
    # archive must bring the held-out articles' loss well down.
    assert metrics["heldout_mlm_loss_after"] < metrics["heldout_mlm_loss_before"] - 1.0
    assert run.data.params["documents"] == "12"

    local = Path(download_encoder(uri))
    fetched = (local / "model.safetensors").stat().st_mtime_ns
    assert download_encoder(uri) == str(local)
    assert (local / "model.safetensors").stat().st_mtime_ns == fetched  # cached, not fetched
    adapted = load_file(local / "model.safetensors")
    original = load_file(Path(resolve_base_model(SHIPPED_ENCODER)) / "model.safetensors")
    name = "encoder.layer.5.output.dense.weight"
    assert adapted[name].shape == original[name].shape
    assert not adapted[name].equal(original[name])

    result = train(
        TransformerConfig(
            data=["corpus"], base_model=uri, max_steps=2, batch_size=16, max_length=64
        ),
        keep_dir=own_store / "model",
    )
    assert load_meta(own_store / "model").base_model == uri
    assert result.run_id != run.info.run_id


def test_bad_arguments_stop_before_any_training(own_store, tmp_path, capsys):
    folder = tmp_path / "nothing"
    folder.mkdir()
    (folder / "scan.txt").write_bytes(b"\x00\x01PDF")
    assert main(["encoders", "adapt", str(folder)]) == 2
    assert "no readable documents" in capsys.readouterr().err
    assert main(["encoders", "adapt", str(folder), str(tmp_path / "typo")]) == 2
    assert "no such file or folder" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["encoders", "adapt", str(folder), "--batch-size", "0"])
    assert "must be above 0" in capsys.readouterr().err


def test_an_artifact_that_is_not_an_encoder_is_refused(own_store):
    import mlflow

    from training.adapt import download_encoder
    from training.tracking import connect

    connect()
    mlflow.set_experiment("propscan/test")
    with mlflow.start_run() as run:
        mlflow.log_text("not an encoder", "model/notes.txt")
    with pytest.raises(ValueError, match="no config.json"):
        download_encoder(f"runs:/{run.info.run_id}/model")
