"""Helpers of the MLflow deployment plugin tests (the fixtures are in plugin_fixtures.py).
Importing it puts the serving tests' helpers (``tests/serving/service_process.py``) on
sys.path."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from mlflow_fixtures import client_for

SERVING = str(Path(__file__).resolve().parents[1] / "serving")
if SERVING not in sys.path:
    sys.path.insert(0, SERVING)

NAME = "iris"


def pyfunc_predictions(uri: str, version: str, frame: Any) -> list[Any]:
    """What ``mlflow.pyfunc`` of version ``version`` of ``iris`` predicts on ``frame``."""
    import mlflow

    mlflow.set_tracking_uri(uri)
    try:
        return mlflow.pyfunc.load_model(f"models:/{NAME}/{version}").predict(frame).tolist()
    finally:
        mlflow.set_tracking_uri(None)


def aliases(store: str) -> dict[str, str]:
    """The aliases of model ``iris``."""
    return {a: str(v) for a, v in client_for(store).get_registered_model(NAME).aliases.items()}


def field(output: str, key: str) -> str:
    """The value of ``key: value`` in ``mlflow deployments get`` output."""
    for line in output.splitlines():
        if line.startswith(f"{key}: "):
            return line.split(": ", 1)[1]
    raise AssertionError(f"no {key} in:\n{output}")
