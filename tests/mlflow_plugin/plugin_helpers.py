"""Helpers of the MLflow deployment plugin tests (the fixtures are in plugin_fixtures.py).
Importing it puts the serving tests' helpers (``tests/serving/service_process.py``) on
sys.path."""

from __future__ import annotations

import shutil
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
        mlflow.set_tracking_uri(None)  # type: ignore[arg-type]  # None: back to the default


def aliases(store: str) -> dict[str, str]:
    """The aliases of model ``iris``."""
    return {a: str(v) for a, v in client_for(store).get_registered_model(NAME).aliases.items()}


def field(output: str, key: str) -> str:
    """The value of ``key: value`` in ``mlflow deployments get`` output."""
    for line in output.splitlines():
        if line.startswith(f"{key}: "):
            return line.split(": ", 1)[1]
    raise AssertionError(f"no {key} in:\n{output}")


def install_fake_plugin(site: Path) -> Path:
    """Put the fake MLflow deployment plugin (``fake_deploy_plugin.py`` as module
    ``fake_deploy``, entry point ``fake`` in group ``mlflow.deployments``) in folder
    ``site``, as pip would install it; ``site`` (to put on sys.path or PYTHONPATH)."""
    info = site / "fake_deploy-0.0.dist-info"
    info.mkdir(parents=True)
    shutil.copyfile(Path(__file__).with_name("fake_deploy_plugin.py"), site / "fake_deploy.py")
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fake_deploy\nVersion: 0.0\n")
    (info / "entry_points.txt").write_text("[mlflow.deployments]\nfake = fake_deploy\n")
    return site
