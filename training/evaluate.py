"""Evaluate any model version on a named evaluation set, the same way for every family.

Each evaluation is an MLflow run in the evaluation set's experiment, tagged with the
model version and the set's digest, holding the fixed metric names, the plots and the
per-sentence predictions (plain arrays) that `models compare` bootstraps from.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import mlflow
import numpy as np
from mlflow.tracking import MlflowClient

from data.hf import build_dataset
from data.sources import load_specs_by_spec, spec_path
from data.splits import DEFAULT_RATIOS, split_records
from model.predictor import Predictor
from model.resolve import describe, model_uri, registered_version, resolve_model_folder
from training import tracking
from training.metrics import compute_metrics, metrics_table, ranking_metrics
from training.plots import log_plots
from training.span_scores import span_metrics

PREDICTIONS_ARTIFACT = "predictions.npz"


@dataclass
class EvalSet:
    name: str  # e.g. corpus-test
    records: list[dict]
    source: str
    experiment: str  # evaluations share the data's experiment, e.g. propscan/corpus
    split: str = "test"
    ratios: tuple[float, float, float] = DEFAULT_RATIOS
    offset: float = 0.0


@dataclass
class Evaluation:
    run_id: str
    metrics: dict[str, float]
    doc_ids: np.ndarray
    pred: np.ndarray
    gold: np.ndarray
    mask: np.ndarray
    caveat: str | None = None  # why the figures may flatter the model
    reused: bool = False  # an earlier identical evaluation run was found and read back


def eval_set(
    specs: list[str], split: str = "test", ratios=DEFAULT_RATIOS, offset: float = 0.0
) -> EvalSet:
    """The named evaluation set: one split (or `all`) of the given data."""
    by_spec = load_specs_by_spec(specs)
    records = []
    for rows in by_spec.values():
        records += rows if split == "all" else split_records(rows, ratios, offset)[split]
    if not records:
        raise ValueError(f"evaluation set {specs} / {split} is empty")
    name = f"{tracking.data_name(specs)}-{split}"
    sources = ";".join(str(spec_path(s)) for s in specs)
    experiment = tracking.experiment_name(specs)
    return EvalSet(name, records, sources, experiment, split, tuple(ratios), offset)


def split_caveat(client: MlflowClient, name: str, version: str, data: EvalSet) -> str | None:
    """A version trained on other split ratios or offset (cross-validation) has its own test
    split; documents of this one may have been in its training data."""
    if data.split == "all":
        return None
    run_id = client.get_model_version(name, version).run_id
    params = client.get_run(run_id).data.params if run_id else {}
    if "split_ratios" not in params:
        return None
    ratios = tuple(float(x) for x in params["split_ratios"].split(","))
    offset = float(params.get("split_offset", "0"))
    if np.allclose(ratios, data.ratios) and np.isclose(offset, data.offset):
        return None
    return (
        f"version {version} was trained with split ratios {params['split_ratios']} and "
        f"offset {offset}, so some documents of {data.name} may be in its training data"
    )


def find_evaluation(client: MlflowClient, registered: tuple[str, str], digest: str, data):
    experiment = client.get_experiment_by_name(data.experiment)
    if experiment is None:
        return None
    name, version = registered
    runs = client.search_runs(
        [experiment.experiment_id],
        f"tags.kind = 'evaluation' and tags.model_name = '{name}' "
        f"and tags.model_version = '{version}' and tags.eval_digest = '{digest}'",
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    return runs[0] if runs else None


def load_evaluation(client: MlflowClient, run, caveat: str | None) -> Evaluation:
    """An earlier evaluation run, read back with its saved per-sentence predictions."""
    path = client.download_artifacts(run.info.run_id, PREDICTIONS_ARTIFACT)
    arrays = np.load(path, allow_pickle=False)
    return Evaluation(
        run.info.run_id,
        dict(run.data.metrics),
        arrays["doc_ids"],
        arrays["pred"],
        arrays["gold"],
        arrays["mask"],
        caveat,
        reused=True,
    )


def evaluate(model: str, data: EvalSet, reuse: bool = True) -> Evaluation:
    """Score `model` on `data` and log it; reuse an earlier identical evaluation if asked."""
    client = tracking.connect()
    uri = model_uri(model)
    registered = registered_version(uri)
    caveat = split_caveat(client, *registered, data) if registered else None
    name, version = registered or ("", "")
    dataset = build_dataset(data.records)
    eval_input = tracking.pandas_dataset(data.records, data.name, data.source)
    frame_digest = eval_input.digest
    if reuse and registered:
        previous = find_evaluation(client, registered, frame_digest, data)
        if previous is not None:
            return load_evaluation(client, previous, caveat)
    predictor = Predictor(resolve_model_folder(uri))
    texts = list(dataset["text"])
    # 0/1 matrices, as the comparison and the saved predictions use them
    gold = (np.array(dataset["labels"]) > 0.5).astype(np.int8).reshape(len(texts), -1)
    mask = np.array(dataset["label_mask"], dtype=np.int8).reshape(len(texts), -1)
    probs, tokens = predictor.predict(texts)
    techniques = predictor.techniques
    pred = predictor.decide(probs).astype(np.int8)
    metrics = compute_metrics(pred, gold, mask, techniques) | ranking_metrics(probs, gold, mask)
    if tokens is not None:  # a span head: SI, FLC and TC too, under fixed names
        metrics.update(span_metrics(predictor, data.records, probs, tokens))
    doc_ids = np.array([r["doc_id"] for r in data.records])
    mlflow.set_experiment(data.experiment)
    family = predictor.meta.family
    with mlflow.start_run(run_name=f"eval-{version or family}-{data.name}") as run:
        mlflow.set_tags(
            {
                "kind": "evaluation",
                "model_uri": uri,
                "model_name": name,
                "model_version": version,
                "family": family,
                "eval_set": data.name,
                "eval_digest": frame_digest,
            }
        )
        mlflow.log_params({"model_uri": uri, "eval_set": data.name, "family": family})
        tracking.log_input(eval_input, context="evaluation")
        mlflow.log_metrics(metrics)
        with tempfile.TemporaryDirectory() as folder:
            folder = Path(folder)
            np.savez(
                folder / PREDICTIONS_ARTIFACT,
                doc_ids=doc_ids,
                pred=pred,
                gold=gold,
                mask=mask,
            )
            mlflow.log_artifact(str(folder / PREDICTIONS_ARTIFACT))
        log_plots(metrics, probs, gold, mask, techniques, f"{family} on {data.name}", data.name)
    return Evaluation(run.info.run_id, metrics, doc_ids, pred, gold, mask, caveat)


def report(model: str, data: EvalSet, result: Evaluation, techniques: list[str]) -> str:
    """The table `propscan evaluate` prints, naming the version a model name stands for
    and whether the figures come from an earlier run."""
    source = (
        f"reused the earlier evaluation run {result.run_id} (--fresh runs it again)"
        if result.reused
        else f"MLflow run {result.run_id}"
    )
    return "\n".join(
        [
            f"{describe(model)} on {data.name} ({len(data.records):,} sentences):",
            metrics_table(result.metrics, techniques),
            source,
            *([f"warning: {result.caveat}"] if result.caveat else []),
        ]
    )
