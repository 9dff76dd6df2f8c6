"""Registered models that use the notebook's own code load in any process.

Notebooks in ``tests/notebooks/model_code_*.ipynb`` train models that refer to functions and
classes of their setup cell (a ``GridSearchCV`` refit callable, ``FunctionTransformer``
helpers and a lambda, a custom estimator class). Registered by ``jupyter mlops run`` or by a
headless papermill run of the notebook, ``models:/<name>@challenger`` is loaded in a fresh
process whose cwd is an empty folder and which cannot import the notebook's or the
pipeline's code, and predicts what the run's model predicts.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from mlflow_fixtures import H_RAW, assert_no_global_store, client_for, recorder, ref
from model_loading import python

from jupyter_mlops.execute.run_result import StepResult
from jupyter_mlops.execute.status import StepStatus
from jupyter_mlops.registry.model_code import importable_package, is_user_module, user_code
from jupyter_mlops.registry.models import log_and_register_model

NOTEBOOKS = Path(__file__).resolve().parent / "notebooks"
CASES = ["model_code_gridsearch", "model_code_function_transformer", "model_code_custom_estimator"]

# In a fresh process: load the challenger and predict on every 15th row of the notebooks' X.
LOAD_ELSEWHERE = textwrap.dedent(
    """
    import importlib.util, json, os, sys
    name, forbidden, packages = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
    paths = [os.path.abspath(p or os.getcwd()) for p in sys.path]
    assert not [p for p in paths for f in forbidden if p.startswith(f)], paths
    assert not [p for p in packages if importlib.util.find_spec(p) is not None], packages

    import mlflow.pyfunc
    from sklearn.datasets import load_breast_cancer

    model = mlflow.pyfunc.load_model(f"models:/{name}@challenger")
    X = load_breast_cancer(return_X_y=True, as_frame=True)[0].iloc[::15, :5]
    requirements = mlflow.pyfunc.get_model_dependencies(f"models:/{name}@challenger")
    print(json.dumps({
        "requirements": open(requirements).read().split(),
        "predictions": model.predict(X).tolist(),
        "flavors": sorted(model.metadata.flavors),
        "format": model.metadata.flavors.get("sklearn", {}).get("serialization_format"),
        "jupyter_mlops imported": "jupyter_mlops" in sys.modules,
    }))
    """
)

# In the pipeline folder, as its workers do: the run's model from the artifact store.
RUN_MODEL = textwrap.dedent(
    """
    import json, pathlib, sys
    sys.path.insert(0, ".")
    from sklearn.datasets import load_breast_cancer
    from jupyter_mlops.artifacts.store import ArtifactStore

    [entry] = pathlib.Path(".mlops/cache/train").glob("*.json")
    digest = json.loads(entry.read_text())["outputs"]["model"]["hash"]
    model = ArtifactStore.for_pipeline(".").get(digest)
    X = load_breast_cancer(return_X_y=True, as_frame=True)[0].iloc[::15, :5]
    print(json.dumps(model.predict(X).tolist()))
    """
)


def load_elsewhere(
    uri: str, name: str, tmp_path: Path, forbidden: list[Path], packages: list[str]
) -> dict[str, Any]:
    """``models:/<name>@challenger`` loaded by a fresh process in an empty folder, where neither
    the ``forbidden`` folders are on ``sys.path`` nor the ``packages`` importable."""
    empty = tmp_path / "elsewhere"
    empty.mkdir(exist_ok=True)
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri}
    dirs = json.dumps([str(f.resolve()) for f in forbidden])
    loaded: dict[str, Any] = python(
        LOAD_ELSEWHERE, name, dirs, json.dumps(packages), cwd=empty, env=env
    )
    return loaded


def copy_notebook(name: str, tmp_path: Path) -> Path:
    target = tmp_path / "project" / f"{name}.ipynb"
    target.parent.mkdir(parents=True)
    shutil.copyfile(NOTEBOOKS / f"{name}.ipynb", target)
    return target


# --- jupyter mlops run ------------------------------------------------------------------------


@pytest.mark.timeout(600)
@pytest.mark.parametrize("name", CASES)
def test_pipeline_run_registers_a_model_that_loads_without_the_pipeline(
    name: str, tracking_uri: str, tmp_path: Path
) -> None:
    notebook = copy_notebook(name, tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "jupyter_mlops.cli", "run", notebook.name, "--json"]
        + ["--engine", "inprocess", "--tracking-uri", tracking_uri],
        cwd=notebook.parent,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    summary = json.loads(done.stdout)
    assert summary["status"] == "succeeded", summary
    assert summary["model_version"] == "1"
    assert "cloudpickle format requires exercising caution" not in done.stderr

    folder = notebook.parent / "pipelines" / name
    expected = python(RUN_MODEL, cwd=folder)
    loaded = load_elsewhere(tracking_uri, name, tmp_path, [notebook.parent], [name])
    assert loaded["predictions"] == expected
    assert 0 < sum(expected) < len(expected)  # both classes: a real comparison
    assert loaded["flavors"] == ["python_function", "sklearn"]
    assert loaded["format"] == "cloudpickle"
    assert loaded["jupyter_mlops imported"] is False
    pins = [f"{dist}=={metadata.version(dist)}" for dist in ("scikit-learn", "cloudpickle")]
    assert set(pins) <= set(loaded["requirements"])

    version = client_for(tracking_uri).get_model_version_by_alias(name, "challenger")
    assert str(version.version) == "1"
    assert_no_global_store(tmp_path)


PARAMETER_CELLS: list[Any] = [
    "from sklearn.datasets import load_breast_cancer\n"
    "from sklearn.pipeline import make_pipeline\n"
    "from sklearn.preprocessing import FunctionTransformer\n"
    "from sklearn.tree import DecisionTreeClassifier\n\n\n"
    "def distance(frame):\n    return (frame - CENTRE).abs()",
    ("CENTRE = 0.0", ["parameters"]),
    "%%mlstep load\nX, y = load_breast_cancer(return_X_y=True, as_frame=True)\nX = X.iloc[:, :5]",
    "%%mlstep train --model model\n"
    "model = make_pipeline(FunctionTransformer(distance), DecisionTreeClassifier(random_state=0))\n"
    "model.fit(X, y)",
]


@pytest.mark.timeout(600)
def test_setup_code_reading_a_parameter_keeps_the_runs_value_in_the_model(
    tracking_uri: str, tmp_path: Path
) -> None:
    """A setup function reading a pipeline parameter, inside the model: loaded elsewhere, the
    model reads the value the run trained it with (not the default), without jupyter_mlops."""
    from nbfactory import write_notebook
    from sklearn.datasets import load_breast_cancer
    from sklearn.tree import DecisionTreeClassifier

    (tmp_path / "project").mkdir()
    notebook = write_notebook(tmp_path / "project" / "capped.ipynb", PARAMETER_CELLS)
    done = subprocess.run(
        [sys.executable, "-m", "jupyter_mlops.cli", "run", notebook.name, "--json", "-p"]
        + ["CENTRE=15", "--engine", "inprocess", "--tracking-uri", tracking_uri],
        cwd=notebook.parent,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["model_version"] == "1"

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X = X.iloc[:, :5]
    tree = DecisionTreeClassifier(random_state=0).fit((X - 15).abs(), y)
    expected = tree.predict((X.iloc[::15] - 15).abs()).tolist()
    assert expected != tree.predict(X.iloc[::15]).tolist()  # the default would differ
    loaded = load_elsewhere(tracking_uri, "capped", tmp_path, [notebook.parent], ["capped"])
    assert loaded["predictions"] == expected
    assert loaded["jupyter_mlops imported"] is False


# --- a headless run of the notebook itself ----------------------------------------------------


@pytest.mark.timeout(600)
@pytest.mark.parametrize("name", CASES)
def test_headless_notebook_run_registers_a_model_that_loads_elsewhere(
    name: str, tracking_uri: str, kernel_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import papermill

    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking_uri)
    for variable in ("JUPYTER_MLOPS_TRACKING", "JUPYTER_MLOPS_NOTEBOOK", "JPY_SESSION_NAME"):
        monkeypatch.delenv(variable, raising=False)  # headless: tracking is on
    notebook = copy_notebook(name, tmp_path)
    out = papermill.execute_notebook(
        str(notebook),
        str(notebook.with_name("out.ipynb")),
        parameters={"PAPERMILL_INPUT_PATH": str(notebook)},
        kernel_name=kernel_name,
        cwd=str(notebook.parent),
        progress_bar=False,
    )
    streams: dict[str, str] = {"stdout": "", "stderr": ""}
    for cell in out.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                streams[output["name"]] += output["text"]
    assert streams["stderr"] == ""  # no "model not registered", no MLflow warning
    expected = json.loads(streams["stdout"].strip().splitlines()[-1])

    loaded = load_elsewhere(tracking_uri, name, tmp_path, [notebook.parent], [name])
    assert loaded["predictions"] == expected
    assert 0 < sum(expected) < len(expected)
    assert loaded["format"] == "cloudpickle"
    assert loaded["jupyter_mlops imported"] is False
    version = client_for(tracking_uri).get_model_version_by_alias(name, "challenger")
    assert version.tags["mlops.source"] == "notebook"


# --- the parts ----------------------------------------------------------------------------------


def test_user_modules() -> None:
    assert is_user_module("__main__")
    assert is_user_module("my_pipeline.common")  # the generated package: not installed
    assert not is_user_module("numpy.linalg")
    assert not is_user_module("json")
    assert not is_user_module("builtins")
    assert not is_user_module("jupyter_mlops.runtime")  # installed (editable)


def test_plain_sklearn_model_has_no_user_code() -> None:
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.preprocessing import FunctionTransformer

    X, y = np.arange(20.0).reshape(10, 2), np.arange(10) % 2
    assert user_code(RandomForestClassifier(n_estimators=2).fit(X, y)).user == []
    installed = user_code(FunctionTransformer(np.log1p))
    assert installed.user == [] and "numpy" in installed.installed


HELPERS = {
    "mc_helpers.py": "from mc_inner import double\n\ndef scaled(frame):\n    return double(frame)\n",
    "mc_inner.py": "FACTOR = 2.0\n\ndef double(frame):\n    return frame * FACTOR\n",
}


@pytest.fixture
def helper_modules(tmp_path: Path) -> Any:
    """``mc_helpers`` (calls ``mc_inner``): user modules in a folder on ``sys.path``, as a
    ``helpers.py`` beside a notebook; forgotten again afterwards."""
    folder = tmp_path / "helpers"
    folder.mkdir()
    for file, text in HELPERS.items():
        (folder / file).write_text(text)
    with importable_package(folder, "mc_helpers"), importable_package(folder, "mc_inner"):
        import mc_helpers

        yield folder, mc_helpers


def test_code_reached_only_through_code_pickled_by_value_is_found(helper_modules: Any) -> None:
    from sklearn.preprocessing import FunctionTransformer

    _, helpers = helper_modules
    assert user_code(FunctionTransformer(helpers.scaled)).user == ["mc_helpers", "mc_inner"]


def test_model_of_local_helper_modules_loads_where_they_are_missing(
    helper_modules: Any, tracking_uri: str, tmp_path: Path
) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    folder, helpers = helper_modules
    X = load_X()
    y = (X["mean radius"] > X["mean radius"].median()).astype(int)
    model = make_pipeline(FunctionTransformer(helpers.scaled), LogisticRegression(max_iter=1000))
    model.fit(X, y)
    rec = recorder(tracking_uri, tmp_path)
    rec.start()
    step = StepResult("train", status=StepStatus.RAN, inputs={"X": ref("X", H_RAW)})
    run_id = rec.record_step(step)
    assert log_and_register_model(tracking_uri, run_id, model, {"X": X}, "helped", {}) == "1"

    packages = ["mc_helpers", "mc_inner"]
    loaded = load_elsewhere(tracking_uri, "helped", tmp_path, [folder], packages)
    assert loaded["predictions"] == model.predict(X.iloc[::15]).tolist()
    assert loaded["format"] == "cloudpickle"
    assert_no_global_store(tmp_path)


def load_X() -> pd.DataFrame:
    from sklearn.datasets import load_breast_cancer

    return load_breast_cancer(return_X_y=True, as_frame=True)[0].iloc[:, :5]


def test_importable_package_imports_fresh_and_restores(tmp_path: Path) -> None:
    package = tmp_path / "mc_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("VALUE = 1\n")
    stale = type(sys)("mc_pkg")
    sys.modules["mc_pkg"] = stale
    path_before = list(sys.path)
    try:
        with importable_package(tmp_path, "mc_pkg"):
            import mc_pkg

            assert mc_pkg is not stale and mc_pkg.VALUE == 1
        assert sys.modules["mc_pkg"] is stale
        assert sys.path == path_before
    finally:
        sys.modules.pop("mc_pkg", None)
