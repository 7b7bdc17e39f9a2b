"""Several `propscan` processes on one sqlite store: at once, or one killed mid-run."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from mlflow.tracking import MlflowClient

PROPSCAN = [sys.executable, "-m", "training.cli"]
TRAIN = [*PROPSCAN, "train", "baseline", "--data", "corpus"]


def store_env(folder: Path) -> dict[str, str]:
    return {
        **os.environ,
        "MLFLOW_TRACKING_URI": f"sqlite:///{folder / 'mlflow.db'}",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }


def run(args: list[str], folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        args, cwd=folder, env=store_env(folder), capture_output=True, text=True, timeout=600
    )


def registered(out: str) -> str:
    return re.search(r"registered propscan version (\d+)", out).group(1)


def listed_versions(folder: Path) -> list[str]:
    """The version column of `propscan models list`."""
    listing = run([*PROPSCAN, "models", "list"], folder)
    assert listing.returncode == 0, listing.stderr[-3000:]
    return [line.split()[0] for line in listing.stdout.splitlines()[1:]]


def test_two_trainings_at_once_both_register(tmp_path):
    procs = [
        subprocess.Popen(
            TRAIN,
            cwd=tmp_path,
            env=store_env(tmp_path),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [proc.communicate(timeout=600) for proc in procs]
    for proc, (_, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err[-3000:]
    assert sorted(registered(out) for out, _ in outputs) == ["1", "2"]
    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    aliases = client.get_registered_model("propscan").aliases
    assert {k: str(v) for k, v in aliases.items()} == {"champion": "1"}
    assert sum("(alias champion" in out for out, _ in outputs) == 1
    runs = [client.get_run(re.search(r"MLflow run (\w+)", out).group(1)) for out, _ in outputs]
    experiment = client.get_experiment_by_name("propscan/corpus").experiment_id
    assert [run.info.experiment_id for run in runs] == [experiment, experiment]
    assert listed_versions(tmp_path) == ["2", "1"]


def wait_for_run(folder: Path, proc: subprocess.Popen) -> None:
    """Until the training process has a run in the store (it is then mid-training)."""
    client = MlflowClient(f"sqlite:///{folder / 'mlflow.db'}")
    for _ in range(1200):
        assert proc.poll() is None, "training ended before it could be killed"
        if (folder / "mlflow.db").exists():
            try:
                experiment = client.get_experiment_by_name("propscan/corpus")
                if experiment and client.search_runs([experiment.experiment_id]):
                    return
            except Exception:  # the first process may still be creating the tables
                pass
        time.sleep(0.05)
    raise AssertionError("no run appeared in the store")


def test_a_run_killed_mid_training_leaves_the_store_usable(tmp_path):
    proc = subprocess.Popen(
        TRAIN,
        cwd=tmp_path,
        env=store_env(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_run(tmp_path, proc)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    again = run(TRAIN, tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
    assert registered(again.stdout) == "1"  # the killed run registered nothing
    assert "(alias champion" in again.stdout
    assert listed_versions(tmp_path) == ["1"]
    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("propscan/corpus").experiment_id
    statuses = sorted(r.info.status for r in client.search_runs([experiment]))
    assert statuses == ["FINISHED", "RUNNING"]  # the killed one stays visibly unfinished
