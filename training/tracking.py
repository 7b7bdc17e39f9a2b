"""MLflow tracking conventions: the store, experiment names, dataset inputs, run addresses.

The model registry (versions, aliases, promotion) is `training.registry`.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import mlflow
import pandas as pd
from mlflow.tracking import MlflowClient

from training.storelock import store_lock


def tracking_uri() -> str:
    """`MLFLOW_TRACKING_URI` when set, else `sqlite:///mlflow.db` in the working directory."""
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{Path.cwd() / 'mlflow.db'}"


def connect() -> MlflowClient:
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    uri = tracking_uri()
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    with store_lock(uri):  # opening a new store creates its tables: one process at a time
        client = MlflowClient(uri, uri)
        client.search_registered_models(max_results=1)  # the registry store opens lazily
    return client


def server_environment() -> dict[str, str]:
    """The environment for an `mlflow server` child: MLflow starts uvicorn from PATH, so
    this interpreter's scripts folder (the virtual environment's) goes first on it."""
    scripts = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": f"{scripts}{os.pathsep}{os.environ.get('PATH', '')}"}


def data_name(specs: list[str]) -> str:
    """A short, stable name for a data selection: corpus, ptc, a file's stem; joined by +."""
    names = []
    for spec in specs:
        if spec.startswith("ptc:"):
            names.append("ptc")
        elif spec == "corpus":
            names.append("corpus")
        else:
            names.append(Path(spec).stem or Path(spec).name)
    return "+".join(names)


def experiment_name(specs: list[str]) -> str:
    """The experiment that training and evaluation runs on this data share."""
    return f"propscan/{data_name(specs)}"


def git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parent,
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def records_frame(records: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [r["id"] for r in records],
            "text": [r["text"] for r in records],
            "labels": [",".join(r["labels"]) for r in records],
            "source": [r["source"] for r in records],
        }
    )


def records_digest(records: list[dict]) -> str:
    """A digest of every record. MLflow's own pandas digest reads only the first 10,000
    rows, so two PTC sets differing further down would look the same to it."""
    lines = (json.dumps(r, sort_keys=True, ensure_ascii=False) for r in records)
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()[:16]


def pandas_dataset(records: list[dict], name: str, source: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "source can be interpreted in ..."
        return mlflow.data.from_pandas(
            records_frame(records),
            source=source,
            name=name,
            targets="labels",
            digest=records_digest(records),
        )


def log_input(dataset, context: str) -> None:
    """`mlflow.log_input` under the store lock: MLflow gets or creates the dataset's row
    in two steps, so two runs logging the same data at once can both try to create it
    (seen: UNIQUE constraint failed: datasets.experiment_id, datasets.name, ...)."""
    with store_lock(tracking_uri()):
        mlflow.log_input(dataset, context=context)


def log_split_dataset(records: list[dict], name: str, source: str, context: str):
    """Log records as an MLflow dataset input (its digest identifies the exact data)."""
    dataset = pandas_dataset(records, name, source)
    log_input(dataset, context)
    return dataset


def ui_address(client: MlflowClient, run_id: str) -> str:
    """The run's page in `propscan ui` (default port), in the model-training workflow."""
    from training.ui import WORKFLOW

    run = client.get_run(run_id)
    return f"http://127.0.0.1:5000/#/experiments/{run.info.experiment_id}/runs/{run_id}?{WORKFLOW}"
