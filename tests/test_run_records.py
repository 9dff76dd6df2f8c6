"""`jupyter mlops run` on the example notebooks: MLflow records, registry, reproduction."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from mlflow_fixtures import assert_no_global_store, client_for

REPO = Path(__file__).resolve().parents[1]


def copy_example(name: str, tmp_path: Path) -> Path:
    target = tmp_path / "project" / f"{name}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(REPO / "notebooks" / f"{name}.ipynb", target)
    return target


def mlops_run(target: Path, *args: str) -> dict[str, Any]:
    """``jupyter mlops run`` from the target's folder with a relative path, as users type it."""
    done = subprocess.run(
        [sys.executable, "-m", "jupyter_mlops.cli", "run", target.name, "--json", *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=target.parent,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def notebook_metrics(notebook: Path, kernel_name: str, params: dict[str, Any]) -> dict[str, Any]:
    """Run the notebook itself with papermill; its last cell prints the metrics as JSON."""
    import papermill

    out = notebook.with_name("executed.ipynb")
    nb = papermill.execute_notebook(
        str(notebook),
        str(out),
        parameters=params,
        kernel_name=kernel_name,
        cwd=str(notebook.parent),
        progress_bar=False,
    )
    text = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.get("name") == "stdout")
    return json.loads(text.strip().splitlines()[-1])


def test_run_records_runs_metrics_and_a_loadable_model(
    tracking_uri: str, tmp_path: Path, kernel_name: str
) -> None:
    notebook = copy_example("classification", tmp_path)
    args = ("--engine", "inprocess", "--tracking-uri", tracking_uri, "-p", "n_estimators=20")
    summary = mlops_run(notebook, *args)
    assert summary["status"] == "succeeded"
    assert summary["model_version"] == "1"
    assert set(summary["metrics"]) == {"accuracy", "f1", "roc_auc"}

    client = client_for(tracking_uri)
    parent = client.get_run(summary["run_id"])
    assert parent.data.tags["mlops.pipeline"] == "classification"
    assert parent.data.params["n_estimators"] == "20"
    assert parent.data.metrics == pytest.approx(summary["metrics"])
    assert parent.info.status == "FINISHED"
    experiment = parent.info.experiment_id
    children = client.search_runs(
        [experiment], filter_string=f"tags.mlflow.parentRunId = '{summary['run_id']}'"
    )
    by_step = {run.data.tags["mlops.step"]: run for run in children}
    assert set(by_step) == {"load_data", "features", "split", "train", "evaluate"}
    assert all(run.data.tags["mlops.status"] == "ran" for run in children)
    assert by_step["evaluate"].data.metrics["roc_auc"] == summary["metrics"]["roc_auc"]
    assert "mlops.input.X_train" in by_step["train"].data.tags

    version = client.get_model_version_by_alias("classification", "challenger")
    assert str(version.version) == "1"
    assert version.run_id == by_step["train"].info.run_id

    import mlflow
    import pandas as pd

    mlflow.set_tracking_uri(tracking_uri)
    model = mlflow.pyfunc.load_model("models:/classification@challenger")
    example = model.input_example
    assert isinstance(example, pd.DataFrame) and len(example) == 5
    assert len(model.predict(example)) == 5

    # A no-change re-run is all cached and creates no new MLflow run.
    again = mlops_run(notebook, *args)
    assert {s["status"] for s in again["steps"].values()} == {"cached"}
    assert again["run_id"] == summary["run_id"]
    assert again["model_version"] is None
    assert len(client.search_runs([experiment])) == len(children) + 1
    assert_no_global_store(tmp_path)


@pytest.mark.parametrize(
    "name, params",
    [("classification", {"n_estimators": 30, "threshold": 0.7}), ("regression", {"alpha": 0.5})],
)
def test_extracted_pipeline_reproduces_the_notebook_exactly(
    name: str, params: dict[str, Any], tmp_path: Path, kernel_name: str
) -> None:
    """Both engines give the notebook's own metrics, and byte-identical artifacts."""
    from jupyter_mlops.execute.runner import RunOptions, run_pipeline

    notebook = copy_example(name, tmp_path)
    expected = notebook_metrics(notebook, kernel_name, params)
    cli_params = [arg for key, value in params.items() for arg in ("-p", f"{key}={value!r}")]
    mlops_run(notebook, "--engine", "inprocess", "--no-track", *cli_params)  # extracts
    folder = notebook.parent / "pipelines" / name
    hashes = {}
    for engine in ("inprocess", "papermill"):
        options = RunOptions(engine=engine, track=False, force=True, params=params)
        result = run_pipeline(folder, options)
        assert result.status == "succeeded", engine
        hashes[engine] = {
            (step.name, var): ref.hash
            for step in result.steps.values()
            for var, ref in step.outputs.items()
        }
        if name == "classification":
            assert result.metrics == expected["metrics"], engine
        else:
            assert result.metrics == {
                f"{var}.{key}": value
                for var in ("ridge_metrics", "forest_metrics")
                for key, value in expected[var].items()
            }, engine
    assert hashes["inprocess"] == hashes["papermill"]
