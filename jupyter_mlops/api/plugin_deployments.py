"""Use cases behind the ``jupyter-mlops`` MLflow deployment plugin (``mlflow deployments …
-t jupyter-mlops[:/rest|:/batch]``): named local deployments (``deploy/local_service/``),
each recorded on its registry alias ``deploy-<name>``. Kind ``rest``: a prediction service
following the alias; kind ``batch``: a table the version pre-scored (serving as data).
Results are plain JSON-ready dicts.

``config`` holds the plugin's ``-C key=value`` settings: ``tracking_uri`` (default:
``$MLFLOW_TRACKING_URI``, else the project's store); rest: ``host`` (default 127.0.0.1)
and ``port`` (default: a free one); batch: ``input``, ``key``, ``query``, ``into``
(default ``sqlite:///predictions.db``) and ``table``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jupyter_mlops.errors import DeployError

if TYPE_CHECKING:
    from jupyter_mlops.deploy.local_service.state import LocalDeployment
    from jupyter_mlops.registry.model_ref import ModelRef

MODELS_SCHEME = "models:/"
KNOWN_KEYS = {
    "rest": ("tracking_uri", "host", "port"),
    "batch": ("tracking_uri", "input", "key", "query", "into", "table"),
}


def registry_uri(config: Mapping[str, Any] | None = None) -> str:
    """The tracking URI of the deployments: ``config["tracking_uri"]``, else
    ``$MLFLOW_TRACKING_URI``, else the store of the project around the current folder."""
    from jupyter_mlops.tracking.gitinfo import git_toplevel
    from jupyter_mlops.tracking.store import resolve_tracking_uri

    explicit = (config or {}).get("tracking_uri")
    return resolve_tracking_uri(explicit, git_toplevel(Path.cwd()) or Path.cwd())


def parse_models_uri(model_uri: str | None) -> ModelRef:
    """``models:/NAME/VERSION`` or ``models:/NAME@ALIAS``; ``DeployError`` naming any other
    URI (the registry is the source of truth: only registered versions are deployed)."""
    from jupyter_mlops.registry.model_ref import parse_model_ref

    if not isinstance(model_uri, str) or not model_uri.startswith(MODELS_SCHEME):
        raise DeployError(
            f"model URI {model_uri!r} is not a registered version: give models:/NAME/VERSION "
            "or models:/NAME@ALIAS",
            name=str(model_uri),
        )
    rest = model_uri[len(MODELS_SCHEME) :]
    if "@" not in rest and "/" not in rest:
        raise DeployError(f"model URI {model_uri!r} names no version or alias", name=model_uri)
    return parse_model_ref(rest)


def create_local_deployment(
    kind: str, name: str, model_uri: str, config: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Deployment ``name`` of the version ``model_uri`` names: a started service
    (``rest``) or a scored table (``batch``); its description."""
    from jupyter_mlops.deploy.local_service import batch, rest
    from jupyter_mlops.deploy.local_service.state import check_name

    config = _checked(kind, config)
    uri = registry_uri(config)
    ref = parse_models_uri(model_uri)
    version = _resolve(uri, ref)
    name = check_name(name)
    if kind == "batch":
        settings = _batch_settings(config, required=True)
        created = batch.create_batch(batch.new_batch(uri, name, ref.name, version, settings))
        return batch.describe_batch(created)
    started = rest.create_rest(uri, name, ref.name, version, _host(config), _port(config))
    return rest.describe_rest(started)


def update_local_deployment(
    kind: str, name: str, model_uri: str | None, config: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Move deployment ``name`` to the version ``model_uri`` names (same model): the
    service hot-swaps to it (returns once it serves it), the table is re-scored."""
    from jupyter_mlops.deploy.local_service import batch, rest

    config = _checked(kind, config)
    uri = registry_uri(config)
    deployment = _read(kind, uri, name)
    if model_uri is None:
        return _describe(deployment)
    ref = parse_models_uri(model_uri)
    if ref.name != deployment.model:
        raise DeployError(
            f"deployment '{name}' serves model '{deployment.model}', not '{ref.name}': "
            "create another deployment for it",
            name=name,
        )
    version = _resolve(uri, ref)
    if kind == "batch":
        return batch.describe_batch(batch.update_batch(deployment, version))
    return rest.describe_rest(rest.update_rest(deployment, version))


def delete_local_deployment(kind: str, name: str, config: Mapping[str, Any] | None = None) -> None:
    """Stop the service (``rest``) or drop the table (``batch``) of deployment ``name``,
    remove its alias and its state."""
    from jupyter_mlops.deploy.local_service import batch, rest

    deployment = _read(kind, registry_uri(_checked(kind, config)), name)
    if kind == "batch":
        batch.delete_batch(deployment)
    else:
        rest.delete_rest(deployment)


def list_local_deployments(
    kind: str, config: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Every deployment of kind ``kind`` of the registry, with its live state."""
    from jupyter_mlops.deploy.local_service.state import list_deployments

    uri = registry_uri(_checked(kind, config))
    return [_describe(d) for d in list_deployments(uri) if d.kind == kind]


def get_local_deployment(
    kind: str, name: str, config: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Deployment ``name`` with its live state (the version its service serves, or the
    rows and version of its table)."""
    return _describe(_read(kind, registry_uri(_checked(kind, config)), name))


def predict_local_deployment(
    kind: str, name: str, inputs: Any, config: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """``{"predictions": ...}`` of deployment ``name`` on ``inputs`` (a DataFrame, or an
    ``/invocations`` request dict): its service's answer, or a batch deployment's version
    scoring them."""
    from jupyter_mlops.deploy.local_service import batch, rest

    deployment = _read(kind, registry_uri(_checked(kind, config)), name)
    if kind == "batch":
        return batch.predict_batch(deployment, _frame(inputs))
    return rest.predict_rest(deployment, dataframe_split(inputs))


def run_local_rest(
    name: str,
    model_uri: str,
    config: Mapping[str, Any] | None = None,
    announce: Callable[[str], None] = print,
) -> None:
    """Serve the version ``model_uri`` names in the foreground (until stopped), following
    alias ``deploy-<name>`` pointed at it first."""
    from jupyter_mlops.api.deployment import ServeOptions, serve
    from jupyter_mlops.deploy.local_service.state import check_name, deployment_alias
    from jupyter_mlops.registry.alias_history import move_alias
    from jupyter_mlops.tracking.store import make_client, mlflow_errors

    config = _checked("rest", config)
    uri = registry_uri(config)
    ref = parse_models_uri(model_uri)
    version = _resolve(uri, ref)
    alias = deployment_alias(check_name(name))
    with mlflow_errors(uri, f"point alias '{alias}' of '{ref.name}' at version {version}"):
        move_alias(make_client(uri), ref.name, alias, version, "deploy", note=f"run-local {name}")
    port = _port(config) or 8080
    options = ServeOptions(alias=alias, host=_host(config), port=port, tracking_uri=uri)
    serve(ref.name, options, announce)


def dataframe_split(inputs: Any) -> dict[str, Any]:
    """An ``/invocations`` body of ``inputs``: a DataFrame as ``dataframe_split``, a dict
    as it is (already a request), anything else as ``inputs``."""
    import json

    if hasattr(inputs, "to_json") and hasattr(inputs, "columns"):
        split = json.loads(inputs.to_json(orient="split", index=False, date_format="iso"))
        return {"dataframe_split": {"columns": split["columns"], "data": split["data"]}}
    if isinstance(inputs, dict):
        return inputs
    return {"inputs": inputs}


def _read(kind: str, uri: str, name: str) -> LocalDeployment:
    from jupyter_mlops.deploy.local_service.state import read_deployment

    deployment = read_deployment(uri, name)
    if deployment.kind != kind:
        raise DeployError(
            f"deployment '{name}' is a {deployment.kind} deployment, not {kind}: use target "
            f"jupyter-mlops:/{deployment.kind}",
            name=name,
        )
    return deployment


def _describe(deployment: LocalDeployment) -> dict[str, Any]:
    from jupyter_mlops.deploy.local_service import batch, rest

    if deployment.kind == "batch":
        return batch.describe_batch(deployment)
    return rest.describe_rest(deployment)


def _batch_settings(config: Mapping[str, Any], required: bool) -> dict[str, Any]:
    """``input`` (a .parquet/.csv file or a database URL with ``query``), ``key``,
    ``into`` (default ``sqlite:///predictions.db``) and ``table``."""
    from jupyter_mlops.deploy.batch.runner import DEFAULT_INTO

    for key in ("input", "key"):
        if required and not str(config.get(key) or "").strip():
            raise DeployError(f"config key '{key}' is required for a batch deployment", name=key)
    return {
        "source": config.get("input"),
        "key": config.get("key"),
        "query": config.get("query"),
        "into": config.get("into") or DEFAULT_INTO,
        "table": config.get("table"),
    }


def _frame(inputs: Any) -> Any:
    """``inputs`` as a DataFrame (a ``dataframe_split`` request, records, or a frame)."""
    import pandas as pd

    if isinstance(inputs, dict) and "dataframe_split" in inputs:
        split = inputs["dataframe_split"]
        return pd.DataFrame(split["data"], columns=split.get("columns"))
    return inputs if isinstance(inputs, pd.DataFrame) else pd.DataFrame(inputs)


def _resolve(uri: str, ref: ModelRef) -> str:
    from jupyter_mlops.registry.model_ref import resolve_version
    from jupyter_mlops.tracking.store import make_client, mlflow_errors

    with mlflow_errors(uri, f"read registered model '{ref.name}'"):
        return resolve_version(make_client(uri), ref)


def _checked(kind: str, config: Mapping[str, Any] | None) -> dict[str, Any]:
    """``config`` when every key is one ``kind`` knows; ``DeployError`` naming the key."""
    if kind not in KNOWN_KEYS:
        raise DeployError(f"no local deployment kind '{kind}' (kinds: rest, batch)", name=kind)
    known = KNOWN_KEYS[kind]
    config = dict(config or {})
    for key in config:
        if key not in known:
            raise DeployError(
                f"config key '{key}' is unknown (expected one of: {', '.join(known)})", name=key
            )
    return config


def _host(config: Mapping[str, Any]) -> str:
    host = str(config.get("host", "127.0.0.1")).strip()
    if not host:
        raise DeployError("config key 'host' is empty", name="host")
    return host


def _port(config: Mapping[str, Any]) -> int:
    value = config.get("port", 0)
    try:
        port = int(value)
    except (TypeError, ValueError):
        port = -1
    if not 0 <= port <= 65535:
        raise DeployError(f"config key 'port' must be a port number, not {value!r}", name="port")
    return port
