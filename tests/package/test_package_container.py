"""The ``container`` package format, without Docker (no daemon on these machines: the
image build itself is not exercised here nor in test_package_fresh_venv.py): the
Dockerfile lints clean with hadolint, requirements are pinned, and the baked-in model is
served under another user's key only because the Dockerfile pins its digest — the same
files altered are refused."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from iris_package import NAME, RegisteredIris, read_dockerfile, register_iris, sample_rows
from service_process import Service

from jupyter_mlops import api
from jupyter_mlops.artifacts.trust import folder_digest

pytest_plugins = ("mlflow_fixtures",)

HADOLINT = Path(sys.executable).with_name("hadolint")


@pytest.fixture(scope="module")
def iris(mlflow_db_template: Path, tmp_path_factory: pytest.TempPathFactory) -> RegisteredIris:
    return register_iris(mlflow_db_template, tmp_path_factory.mktemp("store"))


@pytest.mark.parametrize("model_source", ["baked", "registry"])
def test_the_dockerfile_lints_clean(
    iris: RegisteredIris, tmp_path: Path, model_source: str
) -> None:
    options = api.PackageOptions(model_source=model_source)
    api.package(NAME, "container", tmp_path / "ctx", iris.uri, options)
    done = subprocess.run(
        [str(HADOLINT), "--no-color", str(tmp_path / "ctx" / "Dockerfile")],
        capture_output=True,
        text=True,
    )
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


def test_the_context_pins_requirements_and_the_models_digest(
    iris: RegisteredIris, tmp_path: Path
) -> None:
    context = tmp_path / "ctx"
    result = api.package(NAME, "container", context, iris.uri)
    dockerfile = read_dockerfile(context / "Dockerfile")
    assert f"--trust-digest {result.digest}" in dockerfile.cmd[-1]
    assert folder_digest(context / "registry" / "model") == result.digest
    assert dockerfile.runs[-1] == "pip install --no-cache-dir -r requirements.txt"
    lines = (context / "requirements.txt").read_text().splitlines()[1:]
    assert all("==" in line or line.startswith("./wheels/") for line in lines), lines
    assert any(line.startswith("uvicorn[standard]==") for line in lines)
    assert not any("jupyterlab" in line for line in lines)
    assert "docker build" in (context / "README.md").read_text()
    assert any("baked in" in note for note in result.notes)


def serve_context(context: Path, state_dir: Path) -> Service:
    """The context's CMD run from this venv in the context folder, on a free port."""
    dockerfile = read_dockerfile(context / "Dockerfile")
    env = {
        **dockerfile.env,
        "SERVE_HOST": "127.0.0.1",
        "SERVE_PORT": "0",
        "SERVE_LOG_DIR": str(context.parent / "serve-log"),
        "JUPYTER_MLOPS_STATE_DIR": str(state_dir),  # another user's key: none of the seals
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]),
    }
    service = Service("", NAME, cwd=context, env=env)
    service.command = dockerfile.cmd
    return service


def wait_for(condition: Callable[[], bool], running: Service, seconds: float = 120) -> None:
    """Poll ``condition`` until true; fail with the service's output after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "".join(running.output)
        time.sleep(0.2)


def test_the_baked_model_is_served_under_another_key_by_its_pinned_digest(
    iris: RegisteredIris, tmp_path: Path
) -> None:
    context = tmp_path / "ctx"
    api.package(NAME, "container", context, iris.uri)
    rows = sample_rows(iris.frame)
    body = {"dataframe_split": rows.to_dict(orient="split")}
    with serve_context(context, tmp_path / "other-key") as running:
        wait_for(lambda: running.get("/health").status == 200, running)
        reply = running.post("/invocations", body)
        assert reply.status == 200, "".join(running.output)
        assert reply.json()["predictions"] == iris.model.predict(rows).tolist()
        assert running.stop() == 0


def test_altered_model_files_are_refused(iris: RegisteredIris, tmp_path: Path) -> None:
    context = tmp_path / "ctx"
    api.package(NAME, "container", context, iris.uri)
    with (context / "registry" / "model" / "MLmodel").open("a") as mlmodel:
        mlmodel.write("# changed\n")
    with serve_context(context, tmp_path / "other-key") as running:
        wait_for(lambda: b"Untrusted" in running.get("/version").body, running)
        assert running.post("/invocations", {"instances": [[5.0, 3.0, 1.5, 0.2]]}).status == 503


def test_a_trust_digest_that_is_not_a_sha256_is_refused(
    iris: RegisteredIris, tmp_path: Path
) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "jupyter_mlops.cli",
            "serve",
            NAME,
            "--tracking-uri",
            iris.uri,
            "--trust-digest",
            "abc123",
            "--no-log",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 2
    assert "--trust-digest must be a sha256 (64 hex digits), not 'abc123'" in done.stderr
