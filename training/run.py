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
from model.meta import load_meta, save_meta
from model.predictor import Predictor
from training import tracking
from training.config import BaselineConfig, TransformerConfig, config_params
from training.metrics import HEADLINE, compute_metrics, metrics_table
from training.plots import log_plots
from training.registry import register
from training.span_scores import SPAN_METRICS, span_metrics
from training.thresholds import tune_any_threshold, tune_span_thresholds, tune_thresholds


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
    for split in SPLITS:
        if len(dataset[split]) == 0:
            raise ValueError(f"the {split} split is empty: add documents or change --split-ratios")
    name = tracking.data_name(config.data)
    client = tracking.connect()
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
            predictor = Predictor(folder)
            dev_texts, dev_y, dev_mask = split_arrays(dataset["dev"])
            if dev_probs is None:
                dev_probs = predictor.predict_proba(dev_texts)
            thresholds = tune_thresholds(dev_probs, dev_y, dev_mask)
            any_threshold = tune_any_threshold(dev_probs, dev_y, dev_mask, thresholds)
            meta = load_meta(folder)
            meta.thresholds = {t: float(v) for t, v in zip(techniques, thresholds, strict=True)}
            meta.any_threshold = any_threshold
            if dev_tokens is not None:
                span_thresholds = tune_span_thresholds(dev_tokens, dataset["dev"])
                meta.span_thresholds = dict(
                    zip(techniques, map(float, span_thresholds), strict=True)
                )
            save_meta(folder, meta)
            predictor = Predictor(folder)  # with the tuned rule, as scoring will load it
            dev_metrics = compute_metrics(predictor.decide(dev_probs), dev_y, dev_mask, techniques)

            test_texts, test_y, test_mask = split_arrays(dataset["test"])
            started = time.perf_counter()
            test_probs, test_tokens = predictor.predict(test_texts)
            throughput = len(test_texts) / max(time.perf_counter() - started, 1e-9)
            test_pred = predictor.decide(test_probs)
            test_metrics = compute_metrics(test_pred, test_y, test_mask, techniques)
            test_records = [r for parts in splits_by_spec.values() for r in parts["test"]]
            if test_tokens is not None:
                test_metrics.update(span_metrics(predictor, test_records, test_probs, test_tokens))
            sources = per_source(
                predictor, test_records, test_probs, test_tokens, test_y, test_mask
            )

            mlflow.log_metrics(test_metrics)
            mlflow.log_metrics({f"dev/{k}": v for k, v in dev_metrics.items()})
            mlflow.log_metrics(
                {f"{source}/{k}": v for source, m in sources.items() for k, v in m.items()}
            )
            mlflow.log_metrics({f"threshold/{t}": v for t, v in meta.thresholds.items()})
            if meta.span_thresholds:
                mlflow.log_metrics(
                    {f"span_threshold/{t}": v for t, v in meta.span_thresholds.items()}
                )
            mlflow.log_metric("any_threshold", any_threshold)
            mlflow.log_metrics(
                {"train_seconds": train_seconds, "score_sentences_per_second": throughput}
            )
            mlflow.log_dict(meta.thresholds, "thresholds.json")
            log_plots(
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
        Path(kept) if kept else None,
        dev_metrics,
        test_metrics,
        sources,
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
