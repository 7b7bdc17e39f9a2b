"""One training run, either family: data -> fit -> thresholds -> metrics -> MLflow."""

from __future__ import annotations

import contextlib
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
from model.meta import save_meta
from model.predictor import Predictor
from training import tracking
from training.config import BaselineConfig, TransformerConfig, config_params
from training.metrics import HEADLINE, compute_metrics, metrics_table, ranking_metrics
from training.plots import log_plots
from training.registry import register
from training.span_scores import SPAN_METRICS, span_metrics
from training.storelock import store_lock
from training.thresholds import bagged_thresholds, tune_any_threshold, tune_span_thresholds


@dataclass
class TrainResult:
    run_id: str
    version: str
    folder: Path | None  # None when it was temporary: the model lives in MLflow
    dev_metrics: dict[str, float]
    test_metrics: dict[str, float]
    source_metrics: dict[str, dict[str, float]]  # headline test metrics per source
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


def fit(config, dataset, techniques: list[str], folder: Path) -> tuple:
    """Fit a model folder. The transformer also returns its dev probabilities, per
    sentence and per token: it scores dev while choosing the best epoch, through the
    prediction-time scorer. The baseline returns (None, None)."""
    if isinstance(config, BaselineConfig):
        from training.baseline import fit_baseline

        fit_baseline(*split_arrays(dataset["train"]), config, techniques, folder)
        return None, None
    from training.transformer import fine_tune

    return fine_tune(
        dataset,
        config,
        techniques,
        folder,
        log_epoch=lambda metrics, step: mlflow.log_metrics(metrics, step=step),
    )


def per_source(predictor, records: list[dict], probs, tokens, targets, mask) -> dict:
    """Headline and span metrics of each source's sentences alone: a mixed table flatters
    PTC with the corpus's easier sentences."""
    sources = np.array([r["source"] for r in records])
    out = {}
    for source in sorted(set(sources)):
        rows = np.flatnonzero(sources == source)
        metrics = compute_metrics(
            predictor.decide(probs[rows]), targets[rows], mask[rows], predictor.techniques
        )
        out[source] = {k: metrics[k] for k in HEADLINE}
        if tokens is not None:
            spans = span_metrics(
                predictor, [records[i] for i in rows], probs[rows], [tokens[i] for i in rows]
            )
            out[source].update({k: spans[k] for k in SPAN_METRICS})
    return out


def tune_rule(folder: Path, dev, dev_probs, dev_tokens) -> tuple[Predictor, np.ndarray]:
    """Tune the decision rule (and span thresholds, with a span head) on dev, store it in
    the model folder; return the Predictor that scoring will load from it, and the dev
    probabilities (scored here when training did not hand them over)."""
    predictor = Predictor(folder)
    texts, targets, mask = split_arrays(dev)
    if dev_probs is None:
        dev_probs, dev_tokens = predictor.predict(texts)
    thresholds = bagged_thresholds(dev_probs, targets, mask)
    meta = predictor.meta
    meta.thresholds = dict(zip(meta.techniques, map(float, thresholds), strict=True))
    meta.any_threshold = tune_any_threshold(dev_probs, targets, mask, thresholds)
    if dev_tokens is not None:
        span_thresholds = tune_span_thresholds(dev_tokens, dev)
        meta.span_thresholds = dict(zip(meta.techniques, map(float, span_thresholds), strict=True))
    save_meta(folder, meta)
    return Predictor(folder), dev_probs


@dataclass
class Measured:
    metrics: dict[str, float]  # sentence and, with a span head, span metrics
    sources: dict[str, dict[str, float]]  # headline metrics of each source alone
    probs: np.ndarray
    targets: np.ndarray
    mask: np.ndarray
    sentences_per_second: float


def measure(predictor: Predictor, split, records: list[dict]) -> Measured:
    """The model's figures on a split (`records` are its sentence records, in order)."""
    texts, targets, mask = split_arrays(split)
    started = time.perf_counter()
    probs, tokens = predictor.predict(texts)
    throughput = len(texts) / max(time.perf_counter() - started, 1e-9)
    metrics = compute_metrics(predictor.decide(probs), targets, mask, predictor.techniques)
    metrics.update(ranking_metrics(probs, targets, mask))
    if tokens is not None:
        metrics.update(span_metrics(predictor, records, probs, tokens))
    sources = per_source(predictor, records, probs, tokens, targets, mask)
    return Measured(metrics, sources, probs, targets, mask, throughput)


def train(config: BaselineConfig | TransformerConfig, keep_dir: Path | None = None) -> TrainResult:
    """Fit on train, tune thresholds on dev, measure on test, log and register the model.

    The model folder is kept in `config.output_dir` or `keep_dir` when given; otherwise it
    is temporary and the model lives on in MLflow."""
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
    # A test share of 0 is the model to ship once cross-validation has fixed the recipe:
    # it learns from those documents too, and has no test figures.
    with_test = config.split_ratios[2] > 0
    for split in SPLITS if with_test else ("train", "dev"):
        if len(dataset[split]) == 0:
            raise ValueError(f"the {split} split is empty: add documents or change --split-ratios")
    name = tracking.data_name(config.data)
    client = tracking.connect()
    with store_lock(tracking.tracking_uri()):  # two first runs would both create it
        mlflow.set_experiment(config.experiment or tracking.experiment_name(config.data))
    kept = config.output_dir or keep_dir
    with contextlib.ExitStack() as stack:
        folder = Path(kept or stack.enter_context(tempfile.TemporaryDirectory(prefix="propscan-")))
        with mlflow.start_run(run_name=f"{family}-{name}") as run:
            commit = tracking.git_commit() or "unknown"
            mlflow.set_tags({"family": family, "data": name, "mlflow.source.git.commit": commit})
            mlflow.log_params({"family": family, **config_params(config)})
            mlflow.log_params({f"n_{split}": len(dataset[split]) for split in dataset})
            digests = log_inputs(splits_by_spec)

            started = time.perf_counter()
            dev_probs, dev_tokens = fit(config, dataset, techniques, folder)
            train_seconds = time.perf_counter() - started

            # Thresholds and metrics go through the same Predictor that scoring uses.
            predictor, dev_probs = tune_rule(folder, dataset["dev"], dev_probs, dev_tokens)
            _, dev_y, dev_mask = split_arrays(dataset["dev"])
            dev_metrics = compute_metrics(predictor.decide(dev_probs), dev_y, dev_mask, techniques)
            meta = predictor.meta
            mlflow.log_metrics({f"dev/{k}": v for k, v in dev_metrics.items()})
            test = None
            if with_test:
                test_records = [r for parts in splits_by_spec.values() for r in parts["test"]]
                test = measure(predictor, dataset["test"], test_records)
                log_test(test, family, name, techniques)
            mlflow.log_metrics({f"threshold/{t}": v for t, v in meta.thresholds.items()})
            if meta.span_thresholds:
                mlflow.log_metrics(
                    {f"span_threshold/{t}": v for t, v in meta.span_thresholds.items()}
                )
            mlflow.log_metric("any_threshold", meta.any_threshold)
            mlflow.log_metric("train_seconds", train_seconds)
            mlflow.log_dict(meta.thresholds, "thresholds.json")
            test_metrics = test.metrics if test else {}
            version, became_champion = register(
                client, config, family, name, folder, digests, test_metrics
            )
    return TrainResult(
        run.info.run_id,
        version,
        Path(kept) if kept else None,
        dev_metrics,
        test_metrics,
        test.sources if test else {},
        train_seconds,
        became_champion,
        tracking.ui_address(client, run.info.run_id),
    )


def log_test(test: Measured, family: str, name: str, techniques: list[str]) -> None:
    """The test split's figures and plots, under the names every family shares."""
    mlflow.log_metrics(test.metrics)
    mlflow.log_metrics(
        {f"{source}/{k}": v for source, m in test.sources.items() for k, v in m.items()}
    )
    mlflow.log_metric("score_sentences_per_second", test.sentences_per_second)
    log_plots(
        test.metrics,
        test.probs,
        test.targets,
        test.mask,
        techniques,
        f"{family} on {name} test",
        "test",
    )


def report(result: TrainResult, registered_model: str) -> str:
    """What a person at the terminal sees when a run ends."""
    techniques = list(technique_ids())
    if result.test_metrics:
        lines = [
            f"test metrics ({result.train_seconds:.0f} s training):",
            metrics_table(result.test_metrics, techniques),
        ]
    else:
        lines = [
            f"no test split ({result.train_seconds:.0f} s training): measure the recipe by "
            "cross-validation (benchmarks/quality.py --folds 5); dev, which chose the "
            "thresholds and flatters the model:",
            metrics_table(result.dev_metrics, techniques),
        ]
    if len(result.source_metrics) > 1:
        lines.append("each source's test sentences alone:")
        lines += [
            f"  {source:16s} " + "  ".join(f"{k} {v:.3f}" for k, v in m.items())
            for source, m in result.source_metrics.items()
        ]
    lines += [
        "",
        f"registered {registered_model} version {result.version}"
        + (" (alias champion: first version)" if result.became_champion else ""),
        f"MLflow run {result.run_id}: {result.address} (start the UI with `propscan ui`)",
    ]
    return "\n".join(lines)
