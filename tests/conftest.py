import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# A cache of its own: an encoder the user fetched would change the default base model,
# and the frozen layers' output that tests store stays out of the user's cache.
os.environ["PROPSCAN_CACHE"] = tempfile.mkdtemp(prefix="propscan-test-cache-")

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
# PROPSCAN_PTC_DIR points elsewhere (a missing folder shows what a clone without it tests).
PTC_DIR = Path(os.environ.get("PROPSCAN_PTC_DIR", SHARED / "data" / "ptc-2020-train"))


@pytest.fixture(scope="session")
def ptc_dir() -> Path:
    """The PTC training folder; tests of the PTC importer itself skip without it."""
    if not PTC_DIR.is_dir():
        pytest.skip(f"PTC corpus not found at {PTC_DIR}")
    return PTC_DIR


@pytest.fixture(scope="session")
def ptc_records(ptc_dir):
    from data.ptc import import_ptc

    return import_ptc(ptc_dir)


@pytest.fixture(scope="session")
def labeled_records():
    """Many labeled documents: PTC's when its copy is there, else the project's corpus."""
    from data.ptc import import_ptc
    from data.records import read_records
    from data.sources import CORPUS_FILE

    return import_ptc(PTC_DIR) if PTC_DIR.is_dir() else list(read_records(CORPUS_FILE))


@pytest.fixture(scope="session")
def small_data(tmp_path_factory):
    """Data specs for training tests: 40 PTC articles (14 techniques) when the PTC copy is
    there, plus the project's corpus, so a clone without PTC still trains and scores."""
    from data.ptc import import_ptc
    from data.records import write_records

    if not PTC_DIR.is_dir():
        return ["corpus"]
    records = import_ptc(PTC_DIR)
    keep = set(sorted({r["doc_id"] for r in records})[:40])
    path = tmp_path_factory.mktemp("data") / "small.jsonl"
    write_records(path, [r for r in records if r["doc_id"] in keep])
    return [str(path), "corpus"]


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
def after_training() -> dict:
    """The registry's aliases as `trained` left them: later tests move `champion`."""
    return {}


@pytest.fixture(scope="session")
def trained(mlflow_store, small_data, tmp_path_factory, after_training):
    """A baseline and a few-step transformer, trained once and registered as v1 and v2."""
    from training.config import BaselineConfig, TransformerConfig
    from training.run import train
    from training.tracking import connect

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
    after_training["aliases"] = dict(connect().get_registered_model("propscan").aliases)
    return {"baseline": baseline, "transformer": transformer}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def mlflow_service(args: list[str], cwd: Path, **env):
    """Run `mlflow ARGS` on 127.0.0.1 with one worker; yield its address once /health answers.

    The server runs in its own process group, stopped whole: it forks workers that would
    outlive their parent and keep the port."""
    from training.tracking import server_environment
    from training.ui import stop_group

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
        start_new_session=True,
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
        stop_group(proc)
