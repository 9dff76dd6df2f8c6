"""The example notebooks in notebooks/: what extraction must infer, and that they really run.

EXPECTED holds, per notebook, what a careful human reader infers from the code — the exact
``jupyter mlops show NOTEBOOK --json`` output. ``cell`` is 1-based and counts every cell,
markdown included. ``inputs`` maps each variable to the step that last wrote it (mutating
in place counts as writing); ``outputs`` are the variables later steps read plus the
``--model``/``--metrics`` variable, sorted; ``params`` are the pipeline parameters a step
reads directly or through setup functions it calls (transitively), sorted.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
BIN = Path(sys.executable).parent

EXPECTED: dict[str, dict[str, Any]] = {
    "classification": {
        "name": "classification",
        "params": {"test_size": 0.25, "n_estimators": 100, "max_depth": 5, "threshold": 0.5},
        "steps": [
            {
                "name": "load_data",
                "cell": 8,
                "inputs": {},
                "outputs": ["df"],
                "params": [],
            },
            # Adds a column to df in place: a write, so split takes df from here.
            {
                "name": "features",
                "cell": 12,
                "inputs": {"df": "load_data"},
                "outputs": ["df"],
                "params": [],
            },
            # X and y are not read by any later step, so they are no outputs;
            # RANDOM_SEED is a setup constant, not a parameter.
            {
                "name": "split",
                "cell": 14,
                "inputs": {"df": "features"},
                "outputs": ["X_test", "X_train", "y_test", "y_train"],
                "params": ["test_size"],
            },
            # make_model reads RANDOM_SEED (setup), the parameters are passed as arguments.
            {
                "name": "train",
                "cell": 16,
                "inputs": {"X_train": "split", "y_train": "split"},
                "outputs": ["model"],
                "params": ["max_depth", "n_estimators"],
            },
            # classification_metrics -> predict_labels reads the parameter `threshold` as a global.
            {
                "name": "evaluate",
                "cell": 18,
                "inputs": {"X_test": "split", "model": "train", "y_test": "split"},
                "outputs": ["metrics"],
                "params": ["threshold"],
            },
        ],
    },
    "regression": {
        "name": "regression",
        "params": {"alpha": 1.0, "n_estimators": 200, "test_size": 0.2},
        "steps": [
            {
                "name": "load_data",
                "cell": 8,
                "inputs": {},
                "outputs": ["df"],
                "params": [],
            },
            {
                "name": "split",
                "cell": 12,
                "inputs": {"df": "load_data"},
                "outputs": ["X_test", "X_train", "y_test", "y_train"],
                "params": ["test_size"],
            },
            # Two independent branches: they share only the split.
            {
                "name": "train_ridge",
                "cell": 14,
                "inputs": {"X_train": "split", "y_train": "split"},
                "outputs": ["ridge"],
                "params": ["alpha"],
            },
            {
                "name": "evaluate_ridge",
                "cell": 15,
                "inputs": {"X_test": "split", "ridge": "train_ridge", "y_test": "split"},
                "outputs": ["ridge_metrics"],
                "params": [],
            },
            {
                "name": "train_forest",
                "cell": 17,
                "inputs": {"X_train": "split", "y_train": "split"},
                "outputs": ["forest"],
                "params": ["n_estimators"],
            },
            {
                "name": "evaluate_forest",
                "cell": 18,
                "inputs": {"X_test": "split", "forest": "train_forest", "y_test": "split"},
                "outputs": ["forest_metrics"],
                "params": [],
            },
            # The last step, a sink: nothing reads what it computes, so its final values
            # (the displayed table and the printed best model) are kept as results.
            {
                "name": "compare",
                "cell": 20,
                "inputs": {"forest_metrics": "evaluate_forest", "ridge_metrics": "evaluate_ridge"},
                "outputs": ["best", "comparison"],
                "params": [],
                "results": ["comparison", "best"],
            },
        ],
    },
}

EXAMPLES = sorted(EXPECTED)


def notebook_path(name: str) -> Path:
    return NOTEBOOKS / f"{name}.ipynb"


# --- the notebooks themselves ------------------------------------------------------------


@pytest.mark.parametrize("name", EXAMPLES)
def test_notebook_is_clean_nbformat_45(name: str) -> None:
    """Valid nbformat 4.5 with cell ids, a python3 kernelspec and no stored outputs."""
    nb = nbformat.read(notebook_path(name), as_version=4)
    nbformat.validate(nb)
    assert (nb.nbformat, nb.nbformat_minor) == (4, 5)
    assert nb.metadata.kernelspec.name == "python3"
    assert all(cell.get("id") for cell in nb.cells)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert all(not cell.outputs and cell.execution_count is None for cell in code)
    tagged = [cell for cell in code if "parameters" in cell.metadata.get("tags", [])]
    assert len(tagged) == 1


@pytest.mark.parametrize("name", EXAMPLES)
def test_expectation_matches_the_notebook(name: str) -> None:
    """EXPECTED is self-consistent and points at the notebook's real %%mlstep cells."""
    nb = nbformat.read(notebook_path(name), as_version=4)
    expected = EXPECTED[name]
    marked = {
        cell.source.split()[1]: index
        for index, cell in enumerate(nb.cells, start=1)
        if cell.cell_type == "code" and cell.source.startswith("%%mlstep ")
    }
    assert {step["name"]: step["cell"] for step in expected["steps"]} == marked
    outputs: dict[str, list[str]] = {}
    for step in expected["steps"]:
        assert step["outputs"] == sorted(step["outputs"])
        assert step["params"] == sorted(step["params"])
        assert set(step["params"]) <= set(expected["params"])
        for var, producer in step["inputs"].items():
            assert var in outputs[producer], f"{step['name']} reads {var} from {producer}"
        outputs[step["name"]] = step["outputs"]


# --- what extraction infers (the CLI contract) ---------------------------------------------


@pytest.mark.parametrize("name", EXAMPLES)
def test_show_json_infers_the_dependencies_a_reader_sees(name: str) -> None:
    result = subprocess.run(
        [str(BIN / "jupyter-mlops"), "show", str(notebook_path(name)), "--json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == EXPECTED[name]


# --- they run: papermill and nbval, on a real kernel ----------------------------------------


def run_with_papermill(
    name: str, kernel: str, out_dir: Path, parameters: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Execute the notebook with papermill; return the JSON its last cell prints."""
    import papermill

    out = out_dir / f"{name}-out.ipynb"
    nb = papermill.execute_notebook(
        str(notebook_path(name)),
        str(out),
        parameters=parameters or {},
        kernel_name=kernel,
        cwd=str(out_dir),
        progress_bar=False,
    )
    last = [cell for cell in nb.cells if cell.cell_type == "code"][-1]
    text = "".join(
        output.get("text", "")
        for output in last.outputs
        if output.output_type == "stream" and output.name == "stdout"
    )
    lines = text.strip().splitlines()
    assert lines, f"the last cell of {name} printed nothing; outputs: {last.outputs}"
    return json.loads(lines[-1])


@pytest.fixture(scope="module")
def default_runs(
    kernel_name: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, dict[str, Any]]:
    """Each example executed once with its default parameters."""
    return {
        name: run_with_papermill(name, kernel_name, tmp_path_factory.mktemp(name))
        for name in EXAMPLES
    }


def assert_metrics(metrics: Any, keys: set[str]) -> None:
    assert isinstance(metrics, dict)
    assert set(metrics) == keys
    assert all(isinstance(v, float) and math.isfinite(v) for v in metrics.values()), metrics


@pytest.mark.timeout(300)
def test_classification_runs_with_papermill(default_runs: dict[str, dict[str, Any]]) -> None:
    metrics = default_runs["classification"]["metrics"]
    assert_metrics(metrics, {"accuracy", "f1", "roc_auc"})
    assert all(0.0 <= v <= 1.0 for v in metrics.values())
    assert metrics["accuracy"] > 0.9
    assert metrics["roc_auc"] > 0.95


@pytest.mark.timeout(300)
def test_regression_runs_with_papermill(default_runs: dict[str, dict[str, Any]]) -> None:
    result = default_runs["regression"]
    assert set(result) == {"ridge_metrics", "forest_metrics"}
    for metrics in result.values():
        assert_metrics(metrics, {"mae", "rmse", "r2"})
        assert 0 < metrics["mae"] < metrics["rmse"] < 100
        assert 0.1 < metrics["r2"] < 1


@pytest.mark.timeout(300)
def test_threshold_parameter_reaches_the_setup_helper(
    default_runs: dict[str, dict[str, Any]], kernel_name: str, tmp_path: Path
) -> None:
    """papermill injects `threshold`; predict_labels reads it as a global.

    ROC AUC does not depend on the threshold, so it must be exactly equal (the run is
    deterministic); the labels, and so accuracy, change.
    """
    default = default_runs["classification"]["metrics"]
    strict = run_with_papermill("classification", kernel_name, tmp_path, {"threshold": 0.9})
    assert strict["metrics"]["roc_auc"] == default["roc_auc"]
    assert strict["metrics"]["accuracy"] != default["accuracy"]


@pytest.mark.timeout(300)
def test_regression_metrics_are_exactly_reproducible(
    default_runs: dict[str, dict[str, Any]], kernel_name: str, tmp_path: Path
) -> None:
    """A second run, with the default values passed explicitly, gives identical metrics."""
    params = EXPECTED["regression"]["params"]
    again = run_with_papermill("regression", kernel_name, tmp_path, params)
    assert again == default_runs["regression"]


@pytest.mark.timeout(600)
def test_notebooks_pass_nbval_lax(kernel_name: str, tmp_path: Path) -> None:
    """``pytest --nbval-lax`` on copies, so whatever the runs write stays in tmp_path."""
    for name in EXAMPLES:
        shutil.copy(notebook_path(name), tmp_path)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--nbval-lax",
            "--nbval-kernel-name",
            kernel_name,
            "-q",
            "-p",
            "no:cacheprovider",
            ".",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    cells = sum(
        cell.cell_type == "code"
        for name in EXAMPLES
        for cell in nbformat.read(notebook_path(name), as_version=4).cells
    )
    assert f"{cells} passed" in result.stdout, result.stdout[-4000:]
