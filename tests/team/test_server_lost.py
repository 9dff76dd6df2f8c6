"""The tracking server goes away while a run is in a step: the run fails naming the server,
records nothing as succeeded and keeps what it owes MLflow in its state file; once the
server is back, the next run (all steps cached) records and registers what was owed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from mlflow_fixtures import client_for
from mlflow_server import MlflowServer, start_mlflow_server, stop_mlflow_server
from quality_pipeline import BIN
from team_pipeline import write_team_notebook

STEPS = ["arrays", "evaluate", "load", "split", "train"]
WAIT_TIMEOUT = 300.0
# MLflow retries an unreachable server for about four minutes by default; once is enough here.
FEW_RETRIES = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1"}


def run_command(notebook: Path, gate: Path, tracking_uri: str) -> list[str]:
    return [str(BIN / "jupyter-mlops"), "run", str(notebook), "--engine", "inprocess",
            "-p", f"gate={str(gate)!r}", "--tracking-uri", tracking_uri]  # fmt: skip


def wait_for(path: Path, run: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + WAIT_TIMEOUT
    while not path.exists():
        assert run.poll() is None, run.communicate()
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def state_files(notebook: Path) -> list[Path]:
    return sorted((notebook.parent / "pipelines" / "quality" / ".mlops" / "runs").glob("*.json"))


def test_a_run_losing_its_server_fails_and_the_next_run_settles_what_is_owed(
    mlflow_server: MlflowServer, tmp_path: Path
) -> None:
    notebook = write_team_notebook(tmp_path / "member")
    gate = tmp_path / "go"
    run = subprocess.Popen(run_command(notebook, gate, mlflow_server.url), text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env={**os.environ, **FEW_RETRIES})  # fmt: skip
    wait_for(Path(f"{gate}.started"), run)
    stop_mlflow_server(mlflow_server, signal.SIGKILL)
    gate.touch()
    stdout, stderr = run.communicate(timeout=600)
    print(f"\n--- the run that lost its server (exit {run.returncode}):\n{stdout}{stderr}")
    assert run.returncode == 1, stdout + stderr
    assert f"the tracking server at {mlflow_server.url} is unreachable" in stdout + stderr
    assert "succeeded" not in stdout + stderr
    [state_file] = state_files(notebook)
    state = json.loads(state_file.read_text())
    assert state["status"] == "ended" and state["parent_run_id"] is None
    owed = sorted((item["step"], item["action"]) for item in state["owed"])
    assert owed == sorted([*((step, "record") for step in STEPS), ("train", "register")])

    server = start_mlflow_server(mlflow_server.backend_uri, mlflow_server.artifacts,
                                 mlflow_server.log, port=mlflow_server.port)  # fmt: skip
    try:
        assert_nothing_recorded(server.url)
        again = subprocess.run([*run_command(notebook, gate, server.url), "--json"],
                               capture_output=True, text=True, timeout=600)  # fmt: skip
        print(f"--- the next run, server back (exit {again.returncode}):\n{again.stderr}")
        assert again.returncode == 0, again.stdout + again.stderr
        summary = json.loads(again.stdout)  # nothing but the JSON on stdout
        assert summary["status"] == "succeeded"
        assert {step["status"] for step in summary["steps"].values()} == {"cached"}
        assert state_files(notebook) == []
        assert_recorded_once(server.url)
    finally:
        stop_mlflow_server(server)


def assert_nothing_recorded(uri: str) -> None:
    client = client_for(uri)
    experiment = client.get_experiment_by_name("quality")
    if experiment is not None:
        assert client.search_runs([experiment.experiment_id]) == []
    assert client.search_model_versions("name='quality'") == []


def assert_recorded_once(uri: str) -> None:
    """One FINISHED parent run with its five step runs, one model version."""
    client = client_for(uri)
    experiment = client.get_experiment_by_name("quality")
    runs = client.search_runs([experiment.experiment_id])
    assert {run.info.status for run in runs} == {"FINISHED"}
    assert sorted(run.data.tags.get("mlops.step", "") for run in runs) == ["", *STEPS]
    [version] = client.search_model_versions("name='quality'")
    assert version.version == "1"
