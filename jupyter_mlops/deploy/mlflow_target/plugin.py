"""Calls into an MLflow deployment plugin: its client for a target URI, each call run with
the registry as MLflow's tracking URI (plugins resolve ``models:/`` URIs against it) and its
failures turned into ``DeployError``s naming the target URI and the operation; what its
answers mean to our verification."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from typing import Any

from jupyter_mlops.deploy.mlflow_target.target import MlflowTarget
from jupyter_mlops.errors import DeployError, MlopsError

TRACKING_ENV = "MLFLOW_TRACKING_URI"


def model_uri(model: str, version: str) -> str:
    """``models:/MODEL/VERSION``."""
    return f"models:/{model}/{version}"


@contextlib.contextmanager
def plugin_call(target: MlflowTarget, operation: str, tracking_uri: str) -> Iterator[None]:
    """Run a plugin call with the registry as MLflow's tracking URI; any failure becomes a
    ``DeployError`` naming the target URI and the operation."""
    before = os.environ.get(TRACKING_ENV)
    os.environ[TRACKING_ENV] = tracking_uri
    try:
        yield
    except MlopsError:
        raise
    except Exception as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DeployError(
            f"{target.target_uri}: cannot {operation}: {detail}", path=target.target_uri
        ) from exc
    finally:
        if before is None:
            os.environ.pop(TRACKING_ENV, None)
        else:
            os.environ[TRACKING_ENV] = before


def deploy_client(target: MlflowTarget, tracking_uri: str) -> Any:
    """The plugin's deployment client for ``target.target_uri``."""
    from mlflow.deployments import get_deploy_client

    with plugin_call(target, "load the MLflow deployment plugin", tracking_uri):
        client = get_deploy_client(target.target_uri)
    if client is None:
        raise DeployError(f"{target.target_uri}: no MLflow deployment plugin answers it")
    return client


def predictions_json(answer: Any) -> Any:
    """A plugin's ``predict`` answer as JSON values: the ``predictions`` of a
    ``PredictionsResponse`` (or any mapping holding them), else the answer itself."""
    from jupyter_mlops.deploy.serving.prediction_json import encode_predictions

    if isinstance(answer, dict) and "predictions" in answer:
        answer = answer["predictions"]
    return json.loads(encode_predictions(answer))["predictions"]


def reports_version(described: Any, uri: str, version: str) -> bool:
    """Whether a ``get_deployment`` description shows ``uri`` or ``version`` as its
    ``version``/``model_version``."""
    if not isinstance(described, dict):
        return False
    if any(str(value) == uri for value in described.values()):
        return True
    return any(str(described.get(key)) == version for key in ("version", "model_version"))
