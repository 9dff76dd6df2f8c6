"""Data and registered versions for the ``monitor`` command's tests: a binary classifier
``churn`` trained on seeded rows (x1, x2 normal, x3 integers 0..9), registered the way a
pipeline run registers it (``log_and_register_model``, so the reference is captured)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from mlflow_fixtures import client_for, sqlite_uri

from jupyter_mlops.registry.models import log_and_register_model
from jupyter_mlops.tracking.store import default_artifact_location

NAME = "churn"
FEATURES = ["x1", "x2", "x3"]
TRAIN_ROWS = 2000
CLI = [sys.executable, "-m", "jupyter_mlops.cli"]


def rows(n: int, seed: int, shift: float = 0.0) -> Any:
    """``n`` seeded feature rows; ``shift`` moves x1 and x2 by that many standard deviations."""
    import numpy
    import pandas

    rng = numpy.random.default_rng(seed)
    return pandas.DataFrame(
        {
            "x1": rng.normal(shift, 1.0, n),
            "x2": rng.normal(shift, 1.0, n),
            "x3": rng.integers(0, 10, n),
        }
    )


def labels_of(frame: Any) -> Any:
    """The true class of each row: 1 when x1 + x2 / 2 > 0."""
    return ((frame["x1"] + frame["x2"] / 2) > 0).astype("int64")


def register(
    uri: str, model: Any, fit_inputs: dict[str, Any], alias: str | None, name: str = NAME
) -> str:
    """A new version of ``name`` logged in a fresh run of experiment ``name``."""
    client = client_for(uri)
    experiment = client.get_experiment_by_name(name)
    location = default_artifact_location(uri)  # beside the database, not in the cwd
    experiment_id = (
        experiment.experiment_id if experiment else client.create_experiment(name, location)
    )
    run = client.create_run(experiment_id)
    version = log_and_register_model(uri, run.info.run_id, model, fit_inputs, name, {}, alias=alias)
    client.set_terminated(run.info.run_id)
    return version


def build_store(template: Path, folder: Path) -> str:
    """A store with version 1 (``champion``, logistic regression) and version 2
    (``challenger``, a depth-2 tree), both trained on the same rows with labels."""
    import shutil

    from sklearn.linear_model import LogisticRegression
    from sklearn.tree import DecisionTreeClassifier

    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, folder / "mlflow.db")
    uri = sqlite_uri(folder / "mlflow.db")
    X = rows(TRAIN_ROWS, seed=0)
    y = labels_of(X)
    fit_inputs = {"X_train": X, "y_train": y}
    register(uri, LogisticRegression().fit(X, y), fit_inputs, alias="champion")
    register(
        uri, DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, y), fit_inputs, "challenger"
    )
    return uri


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``jupyter mlops ARGS`` in a subprocess."""
    return subprocess.run(
        [*CLI, *args], cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )
