"""One run per pipeline folder at a time: concurrent runs are refused naming the holder
(symlink aliases of the folder included), and an identical model is registered once."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from mlflow_fixtures import client_for
from quality_pipeline import BIN, write_quality_notebook

from jupyter_mlops import cli
from jupyter_mlops.execute.run_lock import pipeline_lock
from jupyter_mlops.server.run_manager import RunManager

BUSY = "another run of this pipeline is in progress: pid"


def extracted(folder: Path) -> tuple[Path, Path]:
    """(notebook, pipeline folder) of the small classification example."""
    notebook = write_quality_notebook(folder)
    assert cli.main(["extract", str(notebook)]) == 0
    return notebook, folder / "pipelines" / "quality"


def test_four_concurrent_runs_succeed_or_are_refused_and_register_one_version(
    tmp_path: Path, tracking_uri: str, figures: Any
) -> None:
    _, pipeline = extracted(tmp_path)
    command = [str(BIN / "jupyter-mlops"), "run", str(pipeline), "--engine", "inprocess"]
    runs = [
        subprocess.Popen(
            [*command, "--tracking-uri", tracking_uri],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outcomes = [(run.wait(timeout=600), run.communicate()[1]) for run in runs]
    client = client_for(tracking_uri)
    versions = client.search_model_versions("name='quality'")
    experiment = client.get_experiment_by_name("quality")
    statuses = [run.info.status for run in client.search_runs([experiment.experiment_id])]
    refused = [
        code == 2 and BUSY in stderr and len(stderr.splitlines()) == 1 for code, stderr in outcomes
    ]
    figures.add(
        "4 concurrent runs of one pipeline folder",
        runs=len(outcomes),
        succeeded=sum(code == 0 for code, _ in outcomes),
        refused_naming_the_holder=sum(refused),
        other_outcomes=sum(
            code != 0 and not ok for (code, _), ok in zip(outcomes, refused, strict=True)
        ),
        versions_registered=len(versions),
        mlflow_runs_not_finished=sum(status != "FINISHED" for status in statuses),
    )
    for code, stderr in outcomes:
        assert code == 0 or (code == 2 and BUSY in stderr and len(stderr.splitlines()) == 1), (
            code,
            stderr,
        )
    assert any(code == 0 for code, _ in outcomes)
    assert len(versions) == 1
    assert set(statuses) == {"FINISHED"}
    assert list((pipeline / ".mlops" / "runs").glob("*.json")) == []


def test_a_symlink_alias_of_the_folder_shares_its_lock(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, pipeline = extracted(tmp_path)
    alias = tmp_path / "alias"
    alias.symlink_to(pipeline, target_is_directory=True)
    with pipeline_lock(pipeline, command="the holder's command"):
        capsys.readouterr()
        code = cli.main(["run", str(alias), "--engine", "inprocess", "--no-track"])
        error = capsys.readouterr().err.strip()
    assert code == 2
    assert f"{BUSY} {os.getpid()} on " in error and "(the holder's command)" in error
    assert len(error.splitlines()) == 1
    assert cli.main(["run", str(alias), "--engine", "inprocess", "--no-track"]) == 0


def test_the_rest_run_manager_reports_the_holder_as_the_runs_error(tmp_path: Path) -> None:
    notebook, pipeline = extracted(tmp_path)
    manager = RunManager()
    try:
        with pipeline_lock(pipeline, command="another run"):
            started = manager.start(
                notebook, folder=pipeline, pipeline="quality", steps=[], engine="inprocess"
            )
            done = manager.wait(started.id, timeout=300).snapshot()
    finally:
        manager.shutdown()
    assert done["status"] == "failed"
    assert BUSY in done["error"] and "(another run)" in done["error"]
