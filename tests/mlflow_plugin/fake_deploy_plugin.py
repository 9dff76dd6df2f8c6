"""A small MLflow deployment plugin for tests (installed by ``install_fake_plugin`` as module
``fake_deploy`` with an entry point ``fake`` on a tmp folder on sys.path).

Deployments live in the JSON file ``$FAKE_DEPLOY_STATE``; ``predict`` loads the deployed
model in-process. Config makes it misbehave: ``wrong_versions`` (comma-separated versions
whose predictions it shifts by one) and ``refuse`` (``create`` or ``update``: that call
raises).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from mlflow.deployments import BaseDeploymentClient, PredictionsResponse


def target_help() -> str:
    return "fake: deployments in $FAKE_DEPLOY_STATE"


def run_local(target, name, model_uri, flavor=None, config=None):  # type: ignore[no-untyped-def]
    raise NotImplementedError("fake plugin: no run-local")


def _path() -> Path:
    return Path(os.environ["FAKE_DEPLOY_STATE"])


def _read() -> dict[str, Any]:
    path = _path()
    return json.loads(path.read_text()) if path.exists() else {}


def _write(state: dict[str, Any]) -> None:
    _path().write_text(json.dumps(state))


class FakeDeploymentClient(BaseDeploymentClient):
    def create_deployment(self, name, model_uri, flavor=None, config=None, endpoint=None):  # type: ignore[no-untyped-def]
        config = dict(config or {})
        if config.get("refuse") == "create":
            raise RuntimeError("fake plugin refuses to create")
        state = _read()
        if name in state:
            raise RuntimeError(f"deployment {name} exists")
        state[name] = {"name": name, "model_uri": model_uri, "config": config, "calls": ["create"]}
        _write(state)
        return {"name": name, "flavor": "python_function"}

    def update_deployment(self, name, model_uri=None, flavor=None, config=None, endpoint=None):  # type: ignore[no-untyped-def]
        config = dict(config or {})
        if config.get("refuse") == "update":
            raise RuntimeError("fake plugin refuses to update")
        state = _read()
        state[name].update(model_uri=model_uri, config=config)
        state[name]["calls"].append("update")
        _write(state)
        return {"name": name, "flavor": "python_function"}

    def delete_deployment(self, name, config=None, endpoint=None):  # type: ignore[no-untyped-def]
        state = _read()
        state.pop(name)
        _write(state)

    def list_deployments(self, endpoint=None):  # type: ignore[no-untyped-def]
        return [{"name": name} for name in _read()]

    def get_deployment(self, name, endpoint=None):  # type: ignore[no-untyped-def]
        return _read()[name]

    def predict(self, deployment_name=None, inputs=None, endpoint=None):  # type: ignore[no-untyped-def]
        import mlflow.pyfunc

        deployment = _read()[deployment_name]
        uri = deployment["model_uri"]
        predictions = mlflow.pyfunc.load_model(uri).predict(inputs)
        wrong = str(deployment["config"].get("wrong_versions", "")).split(",")
        if uri.rsplit("/", 1)[1] in wrong:
            predictions = predictions + 1
        return PredictionsResponse({"predictions": predictions.tolist()})
