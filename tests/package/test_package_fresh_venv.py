"""The packages installed where jupyter_mlops is not: one fresh venv per module
(``python -m venv``, no system site-packages; pip's cache makes the dependencies fast).

- The model's wheel, pip-installed, predicts exactly what ``mlflow.pyfunc.load_model(...)
  .predict`` predicts on the same rows (from a DataFrame, a list of dicts and a 2-D list),
  and ``predict_proba`` equals the scikit-learn model's.
- The container context's install steps (the Dockerfile's RUN pip lines) run in that venv
  from the context folder, then its CMD as a subprocess on a free 127.0.0.1 port (the
  Dockerfile's ENV, with host and port overridden): /health answers, a prediction equals
  pyfunc's, and the service stops on SIGINT. No Docker daemon exists here: the image build
  itself is not exercised.

Both are marked ``fresh_venv`` (the slow ones: ``-m fresh_venv`` selects them).
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
from fresh_venv import INSTALL_TIMEOUT, clean_env, make_venv
from iris_package import (
    NAME,
    RegisteredIris,
    pyfunc_predictions,
    read_dockerfile,
    register_iris,
    sample_rows,
)
from service_process import Service

from jupyter_mlops import api

pytest_plugins = ("mlflow_fixtures",)
pytestmark = [pytest.mark.fresh_venv, pytest.mark.timeout(1200)]

PREDICT = """
import json, sys
import iris_model

rows = json.load(sys.stdin)
frame_rows = [dict(zip(iris_model.COLUMNS, row)) for row in rows]
print(json.dumps({
    "records": iris_model.predict(frame_rows).tolist(),
    "lists": iris_model.predict(rows).tolist(),
    "proba": iris_model.predict_proba(rows).tolist(),
    "model_version": iris_model.model_version,
    "columns": [spec["name"] for spec in iris_model.signature["inputs"]],
}))
"""


@pytest.fixture(scope="module")
def iris(mlflow_db_template: Path, tmp_path_factory: pytest.TempPathFactory) -> RegisteredIris:
    return register_iris(mlflow_db_template, tmp_path_factory.mktemp("store"))


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv (its bin folder) shared by this module's tests."""
    return make_venv(tmp_path_factory.mktemp("fresh") / "venv")


def pip_install(venv: Path, *args: str, cwd: Path | None = None) -> None:
    done = subprocess.run(
        [str(venv / "pip"), "install", "--quiet", *args],
        cwd=cwd,
        env=clean_env(venv),
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def test_the_wheel_in_a_fresh_venv_predicts_as_pyfunc(
    iris: RegisteredIris, venv: Path, tmp_path: Path
) -> None:
    result = api.package(NAME, "wheel", tmp_path / "out", iris.uri)
    pip_install(venv, str(tmp_path / "out" / result.files[0]))
    rows = sample_rows(iris.frame)
    done = subprocess.run(
        [str(venv / "python"), "-c", PREDICT],
        input=json.dumps(rows.to_numpy().tolist()),
        cwd=tmp_path,
        env=clean_env(venv),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    answer = json.loads(done.stdout)
    expected = pyfunc_predictions(iris.uri, iris.version, rows, tmp_path / "pyfunc")
    assert answer["records"] == answer["lists"] == expected
    assert answer["proba"] == iris.model.predict_proba(rows).tolist()
    assert answer["model_version"] == iris.version
    assert answer["columns"] == list(iris.frame.columns)


def test_the_container_context_installs_and_serves_in_a_fresh_venv(
    iris: RegisteredIris, venv: Path, tmp_path: Path
) -> None:
    context = tmp_path / "ctx"
    api.package(NAME, "container", context, iris.uri)
    dockerfile = read_dockerfile(context / "Dockerfile")
    installs = [run for run in dockerfile.runs if run.startswith("pip install")]
    assert installs, dockerfile.runs
    for run in installs:
        done = subprocess.run(
            ["sh", "-c", run],
            cwd=context,
            env=clean_env(venv),
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT,
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    notebook_side = subprocess.run(
        [str(venv / "python"), "-c", "import jupyterlab"], env=clean_env(venv), capture_output=True
    )
    assert notebook_side.returncode != 0  # the [serve] extra only
    env = clean_env(
        venv,
        **{
            **dockerfile.env,
            "SERVE_HOST": "127.0.0.1",
            "SERVE_PORT": "0",
            "SERVE_LOG_DIR": str(tmp_path / "serve-log"),
            "JUPYTER_MLOPS_STATE_DIR": str(tmp_path / "container-key"),  # another key
        },
    )
    service = Service("", NAME, cwd=context, env={})
    service.command, service.env = dockerfile.cmd, env
    rows = sample_rows(iris.frame)
    with service as running:
        deadline = time.monotonic() + 180
        while running.get("/health").status != 200:
            assert time.monotonic() < deadline, "".join(running.output)
            time.sleep(0.2)
        reply = running.post("/invocations", {"dataframe_split": rows.to_dict(orient="split")})
        assert reply.status == 200, "".join(running.output)
        expected = pyfunc_predictions(iris.uri, iris.version, rows, tmp_path / "pyfunc")
        assert reply.json()["predictions"] == expected
        assert running.stop() == 0
