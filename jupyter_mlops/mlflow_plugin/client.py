"""The plugin's deployment client: each method parses MLflow's arguments, calls
:mod:`jupyter_mlops.api` and returns what MLflow expects; our errors become
``MlflowException``s naming the target, the operation and what was wrong."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from mlflow.deployments import BaseDeploymentClient, PredictionsResponse
from mlflow.exceptions import MlflowException

from jupyter_mlops import api
from jupyter_mlops.errors import MlopsError

SCHEME = "jupyter-mlops"
FLAVOR = "python_function"
KINDS = ("rest", "batch")


def target_kind(target_uri: str) -> str:
    """``rest`` for ``jupyter-mlops`` and ``jupyter-mlops:/rest``, ``batch`` for
    ``jupyter-mlops:/batch``; ``MlflowException`` naming any other target URI."""
    parts = urlsplit(target_uri)
    if not parts.scheme:
        kind = "rest" if parts.path == SCHEME else ""
    else:
        kind = parts.path.strip("/") if parts.scheme == SCHEME and not parts.netloc else ""
    if kind not in KINDS:
        known = ", ".join([SCHEME, *(f"{SCHEME}:/{k}" for k in KINDS)])
        raise MlflowException(f"target URI '{target_uri}' is not one of {known}")
    return kind


@contextlib.contextmanager
def as_mlflow_errors(target_uri: str, operation: str) -> Iterator[None]:
    """Re-raise our errors as ``MlflowException`` (``<target>: <operation>: <message>``)."""
    try:
        yield
    except MlopsError as error:
        raise MlflowException(f"{target_uri}: {operation}: {error.message}") from None


class JupyterMlopsDeploymentClient(BaseDeploymentClient):
    """Deployments of registered model versions: local prediction services (``rest``) or
    pre-scored tables (``batch``)."""

    def __init__(self, target_uri: str) -> None:
        super().__init__(target_uri)
        self.kind = target_kind(target_uri)

    def create_deployment(
        self,
        name: str,
        model_uri: str,
        flavor: str | None = None,
        config: dict[str, Any] | None = None,
        endpoint: str | None = None,
    ) -> dict[str, Any]:
        """Start (rest) or score (batch) deployment ``name`` of ``model_uri``; its
        description."""
        _no_endpoint(endpoint)
        with as_mlflow_errors(self.target_uri, f"create deployment '{name}'"):
            described = api.create_local_deployment(self.kind, name, model_uri, config)
        return {**described, "flavor": flavor or FLAVOR}

    def update_deployment(
        self,
        name: str,
        model_uri: str | None = None,
        flavor: str | None = None,
        config: dict[str, Any] | None = None,
        endpoint: str | None = None,
    ) -> dict[str, Any]:
        """Move deployment ``name`` to ``model_uri``; its description once it serves it
        (rest) or its table is re-scored (batch)."""
        _no_endpoint(endpoint)
        with as_mlflow_errors(self.target_uri, f"update deployment '{name}'"):
            described = api.update_local_deployment(self.kind, name, model_uri, config)
        return {**described, "flavor": flavor or FLAVOR}

    def delete_deployment(
        self, name: str, config: dict[str, Any] | None = None, endpoint: str | None = None
    ) -> None:
        """Stop deployment ``name``'s service or drop its table; remove its alias."""
        _no_endpoint(endpoint)
        with as_mlflow_errors(self.target_uri, f"delete deployment '{name}'"):
            api.delete_local_deployment(self.kind, name, config)

    def list_deployments(self, endpoint: str | None = None) -> list[dict[str, Any]]:
        """Every deployment of the registry ``$MLFLOW_TRACKING_URI`` names."""
        _no_endpoint(endpoint)
        with as_mlflow_errors(self.target_uri, "list deployments"):
            return api.list_local_deployments(self.kind)

    def get_deployment(self, name: str, endpoint: str | None = None) -> dict[str, Any]:
        """Deployment ``name``: model, version, and the version its service serves (rest)
        or its table's rows and version (batch)."""
        _no_endpoint(endpoint)
        with as_mlflow_errors(self.target_uri, f"get deployment '{name}'"):
            return api.get_local_deployment(self.kind, name)

    def predict(
        self, deployment_name: str | None = None, inputs: Any = None, endpoint: str | None = None
    ) -> PredictionsResponse:
        """The deployment's predictions of ``inputs`` (a DataFrame, or a request dict)."""
        _no_endpoint(endpoint)
        operation = f"predict with deployment '{deployment_name}'"
        with as_mlflow_errors(self.target_uri, operation):
            if deployment_name is None:
                raise MlflowException(f"{self.target_uri}: {operation}: name a deployment")
            answer = api.predict_local_deployment(self.kind, deployment_name, inputs)
        return PredictionsResponse(answer)

    def explain(
        self, deployment_name: str | None = None, df: Any = None, endpoint: str | None = None
    ) -> Any:
        """Not supported: raises ``MlflowException`` saying so."""
        raise MlflowException(
            f"{self.target_uri}: explain is not supported by jupyter-mlops deployments"
        )


def _no_endpoint(endpoint: str | None) -> None:
    if endpoint is not None:
        raise MlflowException(f"jupyter-mlops deployments have no endpoints (got '{endpoint}')")
