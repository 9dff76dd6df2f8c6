"""``jupyter mlops deploy PIPELINE TARGET`` to an ``mlflow`` target of pipeline.yaml, in a
real CLI process that finds the fake plugin by its entry point on PYTHONPATH: a good
version promoted, a version answering wrong predictions rolled back, and ``rollback``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from mlflow_fixtures import client_for
from nbfactory import write_notebook
from plugin_helpers import NAME, install_fake_plugin

from jupyter_mlops import api

pytest_plugins = ("mlflow_fixtures", "plugin_fixtures")

NOTEBOOK = [
    "from sklearn.tree import DecisionTreeClassifier",
    "%%mlstep load\nfrom sklearn.datasets import load_iris\n"
    "X, y = load_iris(as_frame=True, return_X_y=True)",
    "%%mlstep train --model model\nmodel = DecisionTreeClassifier(max_depth=2).fit(X, y)",
]
TARGETS = """
deploy:
  plugin-prod:
    kind: mlflow
    target_uri: fake
    deployment: iris-prod
    config: {wrong_versions: 2}
"""


@pytest.fixture
def pipeline(tmp_path: Path) -> Path:
    """The extracted ``iris`` pipeline with an mlflow target on the fake plugin."""
    folder = api.extract(write_notebook(tmp_path / f"{NAME}.ipynb", NOTEBOOK)).folder
    with (folder / "pipeline.yaml").open("a", encoding="utf-8") as file:
        file.write(TARGETS)
    return folder


def jupyter_mlops(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    site = tmp_path / "site"
    if not site.exists():
        install_fake_plugin(site)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]),
        "FAKE_DEPLOY_STATE": str(tmp_path / "fake-deployments.json"),
    }
    command = [sys.executable, "-m", "jupyter_mlops.cli", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)


def deploy(tmp_path: Path, folder: Path, store: str, version: str) -> tuple[int, Any]:
    done = jupyter_mlops(
        tmp_path, "deploy", str(folder), "plugin-prod", "--version", version,
        "--tracking-uri", store, "--json",
    )  # fmt: skip
    assert done.stdout.strip().startswith("{"), done.stdout + done.stderr
    return done.returncode, json.loads(done.stdout)


def test_deploy_promotes_a_good_version_and_rolls_back_a_wrong_one(
    pipeline: Path, store: str, tmp_path: Path
) -> None:
    code, first = deploy(tmp_path, pipeline, store, "1")
    assert (code, first["outcome"], first["strategy"]) == (0, "promoted", "replace")
    assert [check["name"] for check in first["checks"]] == ["predictions", "reports_candidate"]
    code, second = deploy(tmp_path, pipeline, store, "2")
    assert second["outcome"] == "rolled_back"
    assert [check["name"] for check in second["failed"]] == ["predictions"]
    assert_on_version_1(tmp_path, store)


def assert_on_version_1(tmp_path: Path, store: str) -> None:
    """The fake plugin's deployment and the alias both hold version 1."""
    deployed = json.loads((tmp_path / "fake-deployments.json").read_text())["iris-prod"]
    assert deployed["model_uri"] == f"models:/{NAME}/1"
    assert str(client_for(store).get_registered_model(NAME).aliases["production"]) == "1"


def test_rollback_of_an_mlflow_target_updates_the_deployment(
    pipeline: Path, store: str, tmp_path: Path
) -> None:
    yaml = pipeline / "pipeline.yaml"
    yaml.write_text(yaml.read_text().replace("config: {wrong_versions: 2}", "config: {}"))
    assert deploy(tmp_path, pipeline, store, "1")[1]["outcome"] == "promoted"
    assert deploy(tmp_path, pipeline, store, "2")[1]["outcome"] == "promoted"
    done = jupyter_mlops(
        tmp_path,
        "rollback",
        str(pipeline),
        "--deploy-target",
        "plugin-prod",
        "--tracking-uri",
        store,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert_on_version_1(tmp_path, store)


def test_an_unknown_plugin_is_named_in_the_error(
    pipeline: Path, store: str, tmp_path: Path
) -> None:
    yaml = pipeline / "pipeline.yaml"
    yaml.write_text(yaml.read_text().replace("target_uri: fake", "target_uri: nosuch:/x"))
    done = jupyter_mlops(
        tmp_path, "deploy", str(pipeline), "plugin-prod", "--version", "1", "--tracking-uri", store
    )
    assert done.returncode != 0
    assert "nosuch:/x: cannot load the MLflow deployment plugin" in done.stdout + done.stderr
