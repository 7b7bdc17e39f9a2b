import os
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
