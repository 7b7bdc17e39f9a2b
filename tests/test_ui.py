"""`propscan ui`: where it opens, what the browser shows there, and that stopping it stops
every process of the MLflow server it started."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from tests.conftest import free_port

PROPSCAN_UI = [sys.executable, "-m", "training.cli", "ui"]


def start_ui(cwd: Path, port: int) -> subprocess.Popen:
    """`propscan ui` as a shell starts a job: in its own process group, like a terminal's."""
    return subprocess.Popen(
        [*PROPSCAN_UI, "--port", str(port)],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )


def wait_healthy(base: str, proc: subprocess.Popen) -> None:
    for _ in range(480):
        assert proc.poll() is None, f"propscan ui exited with {proc.returncode}"
        try:
            with urllib.request.urlopen(f"{base}/health", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.25)
    pytest.fail("propscan ui never answered")


def proc_stat(pid: int) -> tuple[int, str] | None:
    """(parent pid, state) of a live process from /proc, None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # after "(command name)", which may hold spaces
    return int(fields[1]), fields[0]


def descendants(pid: int) -> set[int]:
    """Every process below `pid`, children's children included."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := proc_stat(int(entry.name))):
            parents[int(entry.name)] = stat[0]
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found |= frontier
    return found


def alive(pid: int) -> bool:
    stat = proc_stat(pid)
    return stat is not None and stat[1] != "Z"


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_stopping_ui_stops_every_server_process(mlflow_store, stop):
    """SIGTERM (a service manager, `kill`) or SIGINT (Ctrl-C) leaves no worker holding the port."""
    port = free_port()
    proc = start_ui(mlflow_store, port)
    server: set[int] = set()
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc)
        server = descendants(proc.pid)
        assert len(server) >= 3  # mlflow server, uvicorn, job runner, ...
        proc.send_signal(stop)
        assert proc.wait(timeout=60) == 0
        deadline = time.monotonic() + 5
        while any(alive(pid) for pid in server) and time.monotonic() < deadline:
            time.sleep(0.1)  # orphans are reaped by init a moment after they exit
        assert not [pid for pid in server if alive(pid)]
        assert not listening(port)
    finally:  # a failure here must not leave its leak running
        for pid in [proc.pid, *server]:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_port_in_use_is_an_error(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run(
            [*PROPSCAN_UI, "--port", str(port)],
            cwd=tmp_path,
            env={**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}"},
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert proc.returncode == 1
    assert f"port {port} is already in use" in proc.stderr


@pytest.fixture(scope="module")
def ui(mlflow_store):
    """`propscan ui` on the test store after one more run, the latest, in its own
    experiment; yields its address, the URL it prints, and that run."""
    from training.config import BaselineConfig
    from training.run import train

    latest = train(
        BaselineConfig(data=["corpus"], experiment="propscan/ui", registered_model="ui-test")
    )
    port = free_port()
    proc = start_ui(mlflow_store, port)
    try:
        printed = proc.stdout.readline()
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base, proc)
        url = re.search(r"open (\S+)", printed).group(1)
        yield base, url, MlflowClient().get_run(latest.run_id)
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def chromium_flags(tmp_path: Path, name: str, budget_ms: int = 20_000) -> list[str]:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("chromium is not installed")
    return [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / name}",  # a fresh profile: what a first visit sees
        f"--virtual-time-budget={budget_ms}",
        "--window-size=1600,1000",
    ]


def render(url: str, tmp_path: Path, name: str, ready: str) -> str:
    """The page's DOM once rendered, and a screenshot (PROPSCAN_SCREENSHOT_DIR keeps it).

    Charts render lazily and headless virtual time sometimes ends first (CI once saw all
    three 20 s tries end before the charts), so the DOM is dumped again, up to five times
    with a longer budget each time, until `ready` is in it."""
    folder = Path(os.environ.get("PROPSCAN_SCREENSHOT_DIR", tmp_path))
    screenshot = folder / f"{name}.png"
    subprocess.run(
        [*chromium_flags(tmp_path, f"{name}-shot"), f"--screenshot={screenshot}", url],
        capture_output=True,
        timeout=120,
    )
    assert screenshot.stat().st_size > 20_000
    for attempt in range(5):
        flags = chromium_flags(tmp_path, f"{name}-{attempt}", budget_ms=20_000 * (attempt + 1))
        dom = subprocess.run(
            [*flags, "--dump-dom", url],
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout
        if ready in dom:
            break
    return dom


def test_ui_opens_on_the_latest_runs_metrics(ui, tmp_path):
    """The printed URL opens the latest run's experiment in the model-training workflow,
    with its metrics on screen (MLflow 3 otherwise opens on GenAI traces: "No data")."""
    base, url, latest = ui
    assert url.startswith(f"{base}/#/experiments/{latest.info.experiment_id}/")
    dom = render(url, tmp_path, "landing", ready=">dev/any_f1<")
    assert latest.info.run_name in dom
    assert ">dev/any_f1<" in dom  # a chart per metric, titled by its name
    assert f">{latest.data.metrics['dev/any_f1']:.2f}<" in dom  # its bar's value label
    assert "No data available" not in dom
    # The model-training workflow's sidebar, not GenAI's (Traces, Sessions, Judges, ...).
    assert ">Model registry<" in dom and ">Judges<" not in dom


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


def test_server_lists_both_versions_with_metrics(ui, trained):
    base = ui[0]
    query = urllib.parse.urlencode({"filter": "name='propscan'"})
    versions = get_json(f"{base}/api/2.0/mlflow/model-versions/search?{query}")
    listed = {v["version"]: v for v in versions["model_versions"]}
    for result in trained.values():
        assert result.version in listed
        run = get_json(f"{base}/api/2.0/mlflow/runs/get?run_id={listed[result.version]['run_id']}")
        metrics = {m["key"]: m["value"] for m in run["run"]["data"]["metrics"]}
        assert metrics["micro_f1"] == pytest.approx(result.test_metrics["micro_f1"])
        assert "f1/unsupported_claim" in metrics


def shown(value: float) -> str:
    """A metric as the MLflow UI's tables print it: at most 3 decimals, no trailing zeros."""
    return f"{value:.3f}".rstrip("0").rstrip(".")


def test_ui_compare_page_shows_both_runs(ui, trained, tmp_path):
    """Headless Chromium renders the compare page of the two training runs."""
    runs = [trained["baseline"].run_id, trained["transformer"].run_id]
    experiment = MlflowClient().get_run(runs[0]).info.experiment_id
    url = f"{ui[0]}/#/compare-runs?runs={json.dumps(runs)}&experiments={json.dumps([experiment])}"
    dom = render(url, tmp_path, "compare", ready="Comparing 2 Runs")
    assert "Comparing 2 Runs" in dom
    fetched = [MlflowClient().get_run(run_id) for run_id in runs]
    assert all(run.info.run_name in dom for run in fetched)
    # The metrics table is virtualised: its first rows are rendered, one row per metric
    # (any_f1, then any_threshold) with the two runs' values side by side, in run order.
    cells = re.findall(r">(-?\d+(?:\.\d+)?)<", dom)
    expected = [
        shown(r.data.metrics[name]) for name in ("any_f1", "any_threshold") for r in fetched
    ]
    assert any(cells[i : i + 4] == expected for i in range(len(cells))), (expected, cells)
    assert "any_f1" in dom and "dev/any_f1" in dom
