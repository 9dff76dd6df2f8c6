"""Fixtures of the MLflow deployment plugin tests (a pytest plugin: ``pytest_plugins =
("mlflow_fixtures", "plugin_fixtures")``): a registry with two versions of model ``iris``
and the real ``mlflow deployments`` CLI run against it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from plugin_helpers import NAME
from service_process import new_store, register


@pytest.fixture(scope="session")
def iris() -> Any:
    """The iris features (a DataFrame) and labels."""
    from sklearn.datasets import load_iris

    return load_iris(as_frame=True).frame.drop(columns="target"), load_iris().target


@pytest.fixture
def store(mlflow_db_template: Path, tmp_path: Path, iris: Any) -> str:
    """Model ``iris``: version 1 (a depth-1 tree) and version 2 (depth 4); no alias."""
    from sklearn.tree import DecisionTreeClassifier

    frame, target = iris
    uri = new_store(mlflow_db_template, tmp_path / "store")
    for depth in (1, 4):
        model = DecisionTreeClassifier(max_depth=depth, random_state=0).fit(frame, target)
        register(uri, NAME, model, frame)
    return uri


@pytest.fixture
def mlflow_cli(store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Runs ``mlflow deployments ARGS`` with the store as ``$MLFLOW_TRACKING_URI``; deletes
    the deployments left at the end (stopping their services, dropping their tables)."""
    from jupyter_mlops import api

    env = {**os.environ, "MLFLOW_TRACKING_URI": store}

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "mlflow", "deployments", *args]
        done = subprocess.run(
            command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300
        )
        if check and done.returncode != 0:
            raise AssertionError(f"{command} failed:\n{done.stdout}\n{done.stderr}")
        return done

    yield run
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store)
    for kind in ("rest", "batch"):
        for left in api.list_local_deployments(kind):
            api.delete_local_deployment(kind, left["name"])
