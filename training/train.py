"""One training run, either family: data -> fit -> thresholds -> metrics -> MLflow."""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import mlflow
import numpy as np

from data.hf import dataset_dict
from data.sources import load_specs_by_spec, spec_path
from data.splits import SPLITS, split_records
from data.techniques import technique_ids
from model.bundle import decide, load_meta, save_meta
from model.predictor import Predictor
from training import tracking
from training.config import BaselineConfig, TransformerConfig, config_params
from training.evaluation import (
    compute_metrics,
    metrics_table,
    tune_any_threshold,
    tune_thresholds,
)
from training.model_card import model_card


@dataclass
class TrainResult:
    run_id: str
    version: str
    folder: Path
    dev_metrics: dict[str, float]
    test_metrics: dict[str, float]
    train_seconds: float
    became_champion: bool
    address: str


def split_arrays(split) -> tuple[list[str], np.ndarray, np.ndarray]:
    return (
        list(split["text"]),
        np.array(split["labels"], dtype=np.float32).reshape(len(split), -1),
        np.array(split["label_mask"], dtype=np.float32).reshape(len(split), -1),
    )


def log_inputs(splits_by_spec: dict[str, dict[str, list[dict]]]) -> dict[str, str]:
    """Log every split of every source as an MLflow dataset; return their digests."""
    digests = {}
    for spec, splits in splits_by_spec.items():
        spec_name = tracking.data_name([spec])
        for split, part in splits.items():
            logged = tracking.log_split_dataset(
                part, f"{spec_name}-{split}", str(spec_path(spec)), split
            )
            digests[f"{spec_name}-{split}"] = logged.digest
    return digests


def fit(config, dataset, techniques: list[str], folder: Path) -> None:
    if isinstance(config, BaselineConfig):
        from training.baseline import fit_baseline

        fit_baseline(*split_arrays(dataset["train"]), config, techniques, folder)
    else:
        from training.transformer import fine_tune

        fine_tune(
            dataset,
            config,
            techniques,
            folder,
            log_epoch=lambda metrics, step: mlflow.log_metrics(metrics, step=step),
        )


def register(client, config, family: str, name: str, folder: Path, digests, test_metrics):
    """Log the model, register a version with its card and tags; champion if first."""
    meta = load_meta(folder)
    version = str(tracking.log_model(folder, config.registered_model).registered_model_version)
    card = model_card(family, meta, name, digests, test_metrics, config)
    client.update_model_version(config.registered_model, version, card)
    tags = {
        "family": family,
        "data": name,
        "run_id": mlflow.active_run().info.run_id,
        "test_digests": ",".join(d for k, d in digests.items() if k.endswith("-test")),
    }
    for key, value in tags.items():
        client.set_model_version_tag(config.registered_model, version, key, value)
    return version, tracking.ensure_champion(client, config.registered_model, version)


def train(config: BaselineConfig | TransformerConfig, keep_dir: Path | None = None) -> TrainResult:
    """Fit on train, tune thresholds on dev, measure on test, log and register the model."""
    family = "baseline" if isinstance(config, BaselineConfig) else "transformer"
    techniques = list(technique_ids())
    by_spec = load_specs_by_spec(config.data)
    # Split each source once: the same parts train the model and are logged as its inputs.
    splits_by_spec = {
        spec: split_records(rows, tuple(config.split_ratios), config.split_offset)
        for spec, rows in by_spec.items()
    }
    dataset = dataset_dict(
        {split: [r for parts in splits_by_spec.values() for r in parts[split]] for split in SPLITS}
    )
    for split in SPLITS:
        if len(dataset[split]) == 0:
            raise ValueError(f"the {split} split is empty: add documents or change --split-ratios")
    name = tracking.data_name(config.data)
    client = tracking.connect()
    mlflow.set_experiment(config.experiment or tracking.experiment_name(config.data))
    folder = Path(config.output_dir or keep_dir or tempfile.mkdtemp(prefix="propscan-model-"))
    with mlflow.start_run(run_name=f"{family}-{name}") as run:
        commit = tracking.git_commit() or "unknown"
        mlflow.set_tags({"family": family, "data": name, "mlflow.source.git.commit": commit})
        mlflow.log_params({"family": family, **config_params(config)})
        mlflow.log_params({f"n_{split}": len(dataset[split]) for split in dataset})
        digests = log_inputs(splits_by_spec)

        started = time.perf_counter()
        fit(config, dataset, techniques, folder)
        train_seconds = time.perf_counter() - started

        # Thresholds and metrics go through the same Predictor that scoring uses.
        predictor = Predictor(folder)
        dev_texts, dev_y, dev_mask = split_arrays(dataset["dev"])
        dev_probs = predictor.predict_proba(dev_texts)
        thresholds = tune_thresholds(dev_probs, dev_y, dev_mask)
        any_threshold = tune_any_threshold(dev_probs, dev_y, dev_mask, thresholds)
        meta = load_meta(folder)
        meta.thresholds = {t: float(v) for t, v in zip(techniques, thresholds, strict=True)}
        meta.any_threshold = any_threshold
        save_meta(folder, meta)
        dev_pred = decide(dev_probs, thresholds, any_threshold)  # as the Predictor will
        dev_metrics = compute_metrics(dev_pred, dev_y, dev_mask, techniques)

        test_texts, test_y, test_mask = split_arrays(dataset["test"])
        started = time.perf_counter()
        test_probs = predictor.predict_proba(test_texts)
        throughput = len(test_texts) / max(time.perf_counter() - started, 1e-9)
        test_pred = decide(test_probs, thresholds, any_threshold)
        test_metrics = compute_metrics(test_pred, test_y, test_mask, techniques)

        mlflow.log_metrics(test_metrics)
        mlflow.log_metrics({f"dev/{k}": v for k, v in dev_metrics.items()})
        mlflow.log_metrics({f"threshold/{t}": v for t, v in meta.thresholds.items()})
        mlflow.log_metric("any_threshold", any_threshold)
        mlflow.log_metrics(
            {"train_seconds": train_seconds, "score_sentences_per_second": throughput}
        )
        mlflow.log_dict(meta.thresholds, "thresholds.json")
        tracking.log_plots(
            test_metrics,
            test_probs,
            test_y,
            test_mask,
            techniques,
            f"{family} on {name} test",
            "test",
        )
        version, became_champion = register(
            client, config, family, name, folder, digests, test_metrics
        )
    return TrainResult(
        run.info.run_id,
        version,
        folder,
        dev_metrics,
        test_metrics,
        train_seconds,
        became_champion,
        tracking.ui_address(client, run.info.run_id),
    )


def report(result: TrainResult, registered_model: str) -> str:
    """What a person at the terminal sees when a run ends."""
    techniques = list(technique_ids())
    lines = [
        f"test metrics ({result.train_seconds:.0f} s training):",
        metrics_table(result.test_metrics, techniques),
        "",
        f"registered {registered_model} version {result.version}"
        + (" (alias champion: first version)" if result.became_champion else ""),
        f"MLflow run {result.run_id}: {result.address} (start the UI with `propscan ui`)",
    ]
    return "\n".join(lines)
