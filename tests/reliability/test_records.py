"""Records that survive, and honest outcomes: a run killed after its steps, or whose
recording failed, is recorded and registered by the next run; no MLflow run stays RUNNING;
a failing after-run link fails the MLflow parent run too."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from mlflow_fixtures import client_for
from quality_pipeline import write_quality_notebook

from jupyter_mlops import cli
from jupyter_mlops.errors import TrackingError
from jupyter_mlops.tracking import recording

pytestmark = pytest.mark.figure(
    "MLflow failing or the run killed mid-recording: closed, then recorded and registered by the next run"
)

# Runs the pipeline in a child process that dies (os._exit, as SIGKILL would: no cleanup)
# the moment it calls the function named by argv[3] of module argv[2].
KILLED_AT = """
import os, sys, importlib
module = importlib.import_module(sys.argv[2])
setattr(module, sys.argv[3], lambda *args, **kwargs: os._exit(137))
from jupyter_mlops import cli
cli.main(["run", sys.argv[1], "--engine", "inprocess", "--tracking-uri", sys.argv[4]])
"""


def extracted(folder: Path) -> Path:
    """The small classification example extracted into ``folder``; its pipeline folder."""
    notebook = write_quality_notebook(folder)
    assert cli.main(["extract", str(notebook)]) == 0
    return folder / "pipelines" / "quality"


def killed_at(pipeline: Path, module: str, function: str, tracking_uri: str) -> None:
    """Run the pipeline in a child process killed when it reaches ``module.function``."""
    done = subprocess.run(
        [sys.executable, "-c", KILLED_AT, str(pipeline), module, function, tracking_uri],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 137, done.stderr


def run_json(capsys: pytest.CaptureFixture[str], pipeline: Path, uri: str) -> tuple[int, Any]:
    capsys.readouterr()
    code = cli.main(
        ["run", str(pipeline), "--engine", "inprocess", "--json", "--tracking-uri", uri]
    )
    return code, json.loads(capsys.readouterr().out)


def runs_of(tracking_uri: str) -> list[Any]:
    client = client_for(tracking_uri)
    experiment = client.get_experiment_by_name("quality")
    return client.search_runs([experiment.experiment_id])


def run_states(pipeline: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in (pipeline / ".mlops" / "runs").glob("*.json")]


def test_a_run_killed_while_registering_is_closed_killed_and_its_model_registered(
    tmp_path: Path, tracking_uri: str, capsys: pytest.CaptureFixture[str]
) -> None:
    pipeline = extracted(tmp_path)
    killed_at(pipeline, "jupyter_mlops.tracking.recording", "register_model", tracking_uri)
    [state] = run_states(pipeline)
    assert state["status"] == "running" and state["parent_run_id"]
    assert {item["action"] for item in state["owed"]} == {"register"}
    killed_parent = state["parent_run_id"]
    assert client_for(tracking_uri).get_run(killed_parent).info.status == "RUNNING"

    code, summary = run_json(capsys, pipeline, tracking_uri)
    assert code == 0, summary
    assert {s["status"] for s in summary["steps"].values()} == {"cached"}
    assert summary["model_version"] == "1"
    assert summary["run_id"] not in (None, killed_parent)
    parent = client_for(tracking_uri).get_run(killed_parent)
    assert parent.info.status == "KILLED"
    assert parent.data.tags["mlops.status"] == "killed"
    assert f"pid {state['pid']}" in parent.data.tags["mlops.reason"]
    assert [r for r in runs_of(tracking_uri) if r.info.status == "RUNNING"] == []
    assert run_states(pipeline) == []
    versions = client_for(tracking_uri).search_model_versions("name='quality'")
    assert [str(v.version) for v in versions] == ["1"]


def test_a_run_killed_before_recording_is_recorded_and_registered_by_the_next(
    tmp_path: Path, tracking_uri: str, capsys: pytest.CaptureFixture[str]
) -> None:
    pipeline = extracted(tmp_path)
    killed_at(pipeline, "jupyter_mlops.tracking.recording", "RunRecorder", tracking_uri)
    [state] = run_states(pipeline)
    assert state["parent_run_id"] is None
    assert {item["step"] for item in state["owed"] if item["action"] == "record"} == {
        "load",
        "split",
        "arrays",
        "train",
        "evaluate",
    }

    code, summary = run_json(capsys, pipeline, tracking_uri)
    assert code == 0, summary
    assert summary["status"] == "succeeded" and summary["run_id"] is not None
    assert summary["model_version"] == "1"
    parent = client_for(tracking_uri).get_run(summary["run_id"])
    assert (parent.info.status, parent.data.tags["mlops.status"]) == ("FINISHED", "succeeded")
    assert run_states(pipeline) == []


def test_a_failed_registration_stays_owed_in_the_run_state_until_done(
    tmp_path: Path,
    tracking_uri: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pipeline = extracted(tmp_path)

    def unreachable(*args: Any, **kwargs: Any) -> str:
        raise TrackingError("cannot register the model: the registry is unreachable")

    with monkeypatch.context() as patch:
        patch.setattr(recording, "register_model", unreachable)
        code, summary = run_json(capsys, pipeline, tracking_uri)
    assert code == 1 and summary["status"] == "failed"
    [state] = run_states(pipeline)
    assert state["status"] == "ended" and state["parent_closed"]
    [owed] = state["owed"]
    assert (owed["action"], owed["step"], owed["model_name"]) == ("register", "train", "quality")
    parent = client_for(tracking_uri).get_run(summary["run_id"])
    assert (parent.info.status, parent.data.tags["mlops.status"]) == ("FAILED", "failed")
    assert "registry is unreachable" in parent.data.tags["mlops.reason"]

    code, again = run_json(capsys, pipeline, tracking_uri)
    assert code == 0 and again["model_version"] == "1"
    assert run_states(pipeline) == []


def test_a_model_variable_that_is_no_output_fails_the_run_in_one_line(
    tmp_path: Path, tracking_uri: str, capsys: pytest.CaptureFixture[str]
) -> None:
    pipeline = extracted(tmp_path)
    spec = pipeline / "pipeline.yaml"
    spec.write_text(spec.read_text().replace("  model: model\n", "  model: nosuch\n"))
    code, summary = run_json(capsys, pipeline, tracking_uri)
    assert code == 1 and summary["status"] == "failed"
    error = summary["failed_links"]["register"]
    assert error == (
        "step 'train': --model variable 'nosuch' is not one of its outputs (model); "
        "re-extract the pipeline"
    )
    assert "Traceback" not in capsys.readouterr().err
    parent = client_for(tracking_uri).get_run(summary["run_id"])
    assert (parent.info.status, parent.data.tags["mlops.status"]) == ("FAILED", "failed")
    assert [r for r in runs_of(tracking_uri) if r.info.status == "RUNNING"] == []


def test_a_byte_identical_model_is_never_registered_twice(
    tmp_path: Path, tracking_uri: str, capsys: pytest.CaptureFixture[str]
) -> None:
    pipeline = extracted(tmp_path)
    code, first = run_json(capsys, pipeline, tracking_uri)
    assert code == 0 and first["model_version"] == "1"
    capsys.readouterr()
    assert cli.main(["run", str(pipeline), "--engine", "inprocess", "--force", "--json",
                     "--tracking-uri", tracking_uri]) == 0  # fmt: skip
    forced = json.loads(capsys.readouterr().out)
    assert {s["status"] for s in forced["steps"].values()} == {"ran"}
    assert forced["model_version"] == "1"
    client = client_for(tracking_uri)
    [version] = client.search_model_versions("name='quality'")
    assert version.tags["mlops.model_sha256"]


def test_a_store_failing_mid_recording_leaves_no_run_running_and_no_success(
    tmp_path: Path, tracking_uri: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The artifact folder of the store is a file: logging the first step's notebook fails
    after its MLflow run was created (as a full disk would)."""
    pipeline = extracted(tmp_path)
    artifacts = tmp_path / "mlartifacts"
    artifacts.write_text("not a folder")
    capsys.readouterr()
    code = cli.main(["run", str(pipeline), "--json", "--tracking-uri", tracking_uri])
    summary = json.loads(capsys.readouterr().out)
    assert code == 1 and summary["status"] == "failed" and summary["model_version"] is None
    assert "cannot record step" in summary["failed_links"]["record"]
    runs = runs_of(tracking_uri)
    assert {r.info.status for r in runs} == {"FAILED"}
    assert {r.data.tags["mlops.status"] for r in runs} == {"failed"}
    assert {item["action"] for item in run_states(pipeline)[0]["owed"]} == {"record", "register"}

    artifacts.unlink()
    code, again = run_json(capsys, pipeline, tracking_uri)
    assert code == 0 and again["model_version"] == "1", again
    assert [r for r in runs_of(tracking_uri) if r.info.status == "RUNNING"] == []
    assert run_states(pipeline) == []


def test_a_gated_version_of_an_identical_model_is_reused_without_a_new_decision(
    tmp_path: Path, tracking_uri: str, capsys: pytest.CaptureFixture[str]
) -> None:
    pipeline = extracted(tmp_path)
    with (pipeline / "pipeline.yaml").open("a") as spec:
        spec.write("gates:\n  metrics:\n    accuracy: {min: 0.5}\n")
    code, first = run_json(capsys, pipeline, tracking_uri)
    assert code == 0 and first["gates"]["outcome"] == "validated"
    capsys.readouterr()
    assert cli.main(["run", str(pipeline), "--engine", "inprocess", "--force", "--json",
                     "--tracking-uri", tracking_uri]) == 0  # fmt: skip
    forced = json.loads(capsys.readouterr().out)
    assert forced["model_version"] == "1" and forced["gates"] is None
    [version] = client_for(tracking_uri).search_model_versions("name='quality'")
    assert version.tags["mlops.gate"] == "validated"


def test_steps_recorded_in_another_store_are_recorded_and_registered_in_this_one(
    tmp_path: Path,
    tracking_uri: str,
    mlflow_db_template: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pipeline = extracted(tmp_path)
    code, first = run_json(capsys, pipeline, tracking_uri)
    assert code == 0 and first["model_version"] == "1"
    other = tmp_path / "other.db"
    shutil.copyfile(mlflow_db_template, other)
    other_uri = f"sqlite:///{other}"
    code, moved = run_json(capsys, pipeline, other_uri)
    assert code == 0 and {s["status"] for s in moved["steps"].values()} == {"cached"}
    assert moved["model_version"] == "1" and moved["run_id"] != first["run_id"]
    parent = client_for(other_uri).get_run(moved["run_id"])
    assert parent.info.status == "FINISHED"
    assert len(client_for(other_uri).search_model_versions("name='quality'")) == 1
