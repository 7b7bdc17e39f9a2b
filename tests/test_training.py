"""Training runs end to end into a real sqlite MLflow store, and the masked loss."""

import json
import os
import subprocess
import sys

import mlflow
import numpy as np
import pandas as pd
import pytest
import torch
from mlflow.tracking import MlflowClient
from safetensors.torch import load_file

from data.techniques import technique_ids
from model.predictor import Predictor

FIXED = ["micro_f1", "macro_f1", "any_f1", "mean_ap", "any_ap"] + [
    f"{kind}/{t}" for t in technique_ids() for kind in ("f1", "precision", "recall")
]


@pytest.mark.parametrize("family", ["baseline", "transformer"])
def test_run_is_fully_tracked(trained, family):
    result = trained[family]
    client = MlflowClient()
    run = client.get_run(result.run_id)
    assert run.data.params["family"] == family
    assert run.data.params["seed"] == "42"
    assert run.data.params["split_offset"] == "0.0"
    if family == "transformer":  # the recipe's values, not "None": the run can be repeated
        recipe = {"base_model": "all-MiniLM-L6-v2", "frozen_layers": "0", "precision": "fp32"}
        assert recipe.items() <= run.data.params.items()
    assert set(FIXED) <= set(run.data.metrics)
    assert {f"dev/{m}" for m in ("micro_f1", "macro_f1", "any_f1")} <= set(run.data.metrics)
    assert {f"threshold/{t}" for t in technique_ids()} <= set(run.data.metrics)
    assert run.data.metrics["train_seconds"] > 0
    assert run.data.metrics["score_sentences_per_second"] > 0
    assert run.data.tags["mlflow.source.git.commit"]
    contexts = {i.tags[0].value for i in run.inputs.dataset_inputs}
    assert contexts == {"train", "dev", "test"}
    assert all(i.dataset.digest for i in run.inputs.dataset_inputs)
    artifacts = {a.path for a in client.list_artifacts(result.run_id)}
    assert {"plots", "thresholds.json"} <= artifacts
    plots = {a.path for a in client.list_artifacts(result.run_id, "plots")}
    assert plots == {"plots/f1_test.png", "plots/pr_curves_test.png"}
    version = client.get_model_version("propscan", result.version)
    assert version.run_id == result.run_id
    assert "micro-F1" in version.description


def test_transformer_logs_epochs(trained):
    history = MlflowClient().get_metric_history(trained["transformer"].run_id, "epoch/train_loss")
    assert history and all(np.isfinite(m.value) for m in history)
    dev = MlflowClient().get_metric_history(trained["transformer"].run_id, "epoch/dev_micro_f1")
    assert dev


def test_first_version_is_champion(trained, after_training):
    assert str(after_training["aliases"]["champion"]) == trained["baseline"].version
    assert trained["baseline"].became_champion and not trained["transformer"].became_champion


SENTENCES = [
    "The corrupt traitors in parliament have sold out our great nation once again!",
    "The council meets on Tuesday to discuss the budget.",
    "Nobody has ever seen a single soldier there, the minister said.",
]


@pytest.mark.parametrize("family", ["baseline", "transformer"])
def test_registered_model_loads_without_pickle_and_matches(trained, mlflow_store, family):
    """models:/propscan/N loads in a fresh process with pickle disabled, same predictions."""
    result = trained[family]
    expected = Predictor(result.folder).score(SENTENCES)
    script = (
        "import json, sys, mlflow, pandas as pd\n"
        f"m = mlflow.pyfunc.load_model('models:/propscan/{result.version}')\n"
        f"out = m.predict(pd.DataFrame({{'text': {SENTENCES!r}}}))\n"
        "print(json.dumps(list(out['sentences'])))\n"
    )
    env = {**os.environ, "MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "false"}
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        cwd=mlflow_store,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got == expected


def test_pyfunc_one_row_per_input(trained):
    model = mlflow.pyfunc.load_model(f"models:/propscan/{trained['baseline'].version}")
    out = model.predict(pd.DataFrame({"text": SENTENCES + ["Two sentences. Here they are."]}))
    assert len(out) == 4
    assert list(out["n_sentences"]) == [1, 1, 1, 2]


def test_a_model_to_ship_learns_from_the_test_share_too(trained, small_data, tmp_path):
    """--split-ratios 0.9 0.1 0: more to learn from, dev still tunes, no test figures
    anywhere a user reads them."""
    from training.config import BaselineConfig
    from training.run import report, train

    config = BaselineConfig(
        data=small_data,
        split_ratios=[0.9, 0.1, 0.0],
        experiment="propscan/test",
        registered_model="propscan-shipped",
    )
    result = train(config, keep_dir=tmp_path)
    client = MlflowClient()
    run = client.get_run(result.run_id)
    usual = client.get_run(trained["baseline"].run_id)
    assert run.data.params["n_test"] == "0"
    assert int(run.data.params["n_train"]) > int(usual.data.params["n_train"])
    assert "micro_f1" not in run.data.metrics and "dev/micro_f1" in run.data.metrics
    assert "Test metrics**: none" in client.get_model_version("propscan-shipped", "1").description
    assert "no test split" in report(result, "propscan-shipped")
    scored = Predictor(tmp_path).score(SENTENCES[:1])[0][0]
    assert set(scored["probabilities"]) == set(technique_ids())


def easy_records(n: int, doc: str) -> list[dict]:
    """Half the sentences call someone "traitors" (name_calling), half are plain news."""
    subjects = ["the council", "the minister", "the board", "the mayor", "the union", "the court"]
    records = []
    for i in range(n):
        who = subjects[i % len(subjects)]
        if i % 2:
            text, labels = (
                f"These traitors in {who} sold out our nation, number {i}.",
                ["name_calling"],
            )
        else:
            text, labels = f"On day {i} {who} met to discuss the yearly budget.", []
        records.append(
            {
                "id": f"{doc}:{i}",
                "doc_id": doc,
                "sent_idx": i,
                "start": 0,
                "end": len(text),
                "text": text,
                "labels": labels,
                "spans": [],
                "source": "propscan-corpus",
            }
        )
    return records


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_a_few_transformer_steps_learn_an_easy_technique(tmp_path, precision):
    """Forty steps on sentences where one word marks the technique: the training loss falls
    and the model ranks and fits its own train data far better than a constant prior.
    Without probing first, so that fine-tuning alone has to learn it (tests/test_probe.py
    checks the probe). In bf16 too, whose model is saved in fp32 all the same."""
    from sklearn.metrics import f1_score, roc_auc_score

    from data.hf import dataset_dict
    from training.config import TransformerConfig
    from training.transformer import fine_tune

    train, dev = easy_records(64, "train"), easy_records(16, "dev")
    dataset = dataset_dict({"train": train, "dev": dev, "test": dev})
    config = TransformerConfig(
        max_steps=40,
        batch_size=16,
        max_length=64,
        threads=1,
        patience=100,
        seed=1,
        probe_epochs=0,
        precision=precision,
    )
    losses: list[float] = []

    def log_epoch(metrics: dict, step: int) -> None:
        losses.extend([metrics["epoch/train_loss"]] if "epoch/train_loss" in metrics else [])

    techniques = list(technique_ids())
    fine_tune(dataset, config, techniques, tmp_path / "model", log_epoch=log_epoch)
    assert len(losses) >= 5 and losses[-1] < 0.5 * losses[0], losses

    column = techniques.index("name_calling")
    gold = np.array([bool(r["labels"]) for r in train], dtype=float)
    probs = Predictor(tmp_path / "model").predict_proba([r["text"] for r in train])[:, column]
    assert roc_auc_score(gold, probs) > 0.95  # a constant scores 0.5
    # A constant's best F1 is 2/3 (call everything name_calling); at the default 0.5:
    assert f1_score(gold, probs > 0.5) > 0.9
    weights = load_file(tmp_path / "model" / "model.safetensors")
    assert {w.dtype for w in weights.values()} == {torch.float32}
