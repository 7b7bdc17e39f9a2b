import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
PTC_DIR = SHARED / "data" / "ptc-2020-train"


@pytest.fixture(scope="session")
def ptc_records():
    from data.ptc import import_ptc

    if not PTC_DIR.is_dir():
        pytest.skip(f"PTC corpus not found at {PTC_DIR}")
    return import_ptc(PTC_DIR)


@pytest.fixture(scope="session")
def small_data(tmp_path_factory, ptc_records):
    """A small JSONL: 40 PTC articles (14 techniques) plus the project corpus when built."""
    from data.records import write_records
    from data.sources import CORPUS_FILE

    docs = sorted({r["doc_id"] for r in ptc_records})[:40]
    keep = set(docs)
    path = tmp_path_factory.mktemp("data") / "small.jsonl"
    write_records(path, [r for r in ptc_records if r["doc_id"] in keep])
    specs = [str(path)]
    if CORPUS_FILE.is_file():
        specs.append("corpus")
    return specs


@pytest.fixture(scope="session")
def mlflow_store(tmp_path_factory):
    """A throwaway sqlite tracking store for the whole session, and its folder as cwd."""
    folder = tmp_path_factory.mktemp("mlflow")
    old_uri, old_cwd = os.environ.get("MLFLOW_TRACKING_URI"), Path.cwd()
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{folder / 'mlflow.db'}"
    os.chdir(folder)
    yield folder
    os.chdir(old_cwd)
    if old_uri is None:
        os.environ.pop("MLFLOW_TRACKING_URI", None)
    else:
        os.environ["MLFLOW_TRACKING_URI"] = old_uri


@pytest.fixture(scope="session")
def trained(mlflow_store, small_data, tmp_path_factory):
    """A baseline and a few-step transformer, trained once and registered as v1 and v2."""
    from training.config import BaselineConfig, TransformerConfig
    from training.run import train

    baseline = train(
        BaselineConfig(data=small_data, experiment="propscan/test"),
        keep_dir=tmp_path_factory.mktemp("baseline"),
    )
    transformer = train(
        TransformerConfig(
            data=small_data, experiment="propscan/test", max_steps=6, batch_size=16, max_length=64
        ),
        keep_dir=tmp_path_factory.mktemp("transformer"),
    )
    return {"baseline": baseline, "transformer": transformer}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def mlflow_service(args: list[str], cwd: Path, **env):
    """Run `mlflow ARGS` on 127.0.0.1 with one worker; yield its address once /health answers."""
    from training.tracking import server_environment

    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlflow",
            *args,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        cwd=cwd,
        env={**server_environment(), **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(480):
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=1):
                    break
            except OSError:
                time.sleep(0.25)
        else:
            pytest.fail(f"mlflow {args[0]} never became healthy")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)
