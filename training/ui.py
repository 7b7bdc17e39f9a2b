"""`propscan ui`: an MLflow server that stops with its command, opened where the runs are.

`mlflow server` forks a dozen processes (uvicorn workers, job consumers). Stopping only its
parent leaves them running and holding the port, so the server runs in its own process
group and the whole group is stopped on the way out, whatever stopped `propscan ui`.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from urllib.parse import urlencode

from mlflow.tracking import MlflowClient

# MLflow 3's UI opens on its "GenAI" workflow (a home page of traces and prompts, a GenAI
# sidebar even on an experiment's runs) unless the URL asks for the machine-learning one:
# the `workflowType` query parameter overrides the workflow the browser remembers
# (localStorage `mlflow.workflowType`, default "genai"). The runs table
# shows no metric columns until picked one by one; its chart view shows every metric of
# every run at once.
WORKFLOW = urlencode({"workflowType": "machine_learning"})
CHARTS = urlencode({"workflowType": "machine_learning", "compareRunsMode": "CHART"})


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """True when something already listens on host:port (binding as the server will)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def landing_url(client: MlflowClient, base: str) -> str:
    """The runs and metric charts of the experiment holding the latest run (ML workflow)."""
    experiments = [e.experiment_id for e in client.search_experiments()]
    latest = client.search_runs(experiments, order_by=["attributes.start_time DESC"], max_results=1)
    if not latest:
        return f"{base}/#/experiments?{WORKFLOW}"
    return f"{base}/#/experiments/{latest[0].info.experiment_id}/runs?{CHARTS}"


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def stop_group(proc: subprocess.Popen, grace: float = 20.0) -> None:
    """SIGTERM the process group led by `proc`; SIGKILL whatever is left after `grace` s."""
    if group_alive(proc.pid):
        os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if proc.poll() is not None and not group_alive(proc.pid):
            return
        time.sleep(0.1)
    if group_alive(proc.pid):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def raise_interrupt(signum, frame) -> None:
    """SIGTERM stops `propscan ui` the way Ctrl-C does, through the cleanup."""
    raise KeyboardInterrupt


def serve(command: list[str], env: dict[str, str]) -> int:
    """Run a server command in its own process group until it ends or we are stopped."""
    previous = signal.signal(signal.SIGTERM, raise_interrupt)
    proc = subprocess.Popen(command, env=env, start_new_session=True)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        stop_group(proc)
        signal.signal(signal.SIGTERM, previous)
