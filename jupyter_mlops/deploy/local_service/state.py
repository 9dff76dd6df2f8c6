"""The state files of named local deployments: one JSON file per deployment under
``<state dir>/deployments/<registry digest>/<name>.json``, so that each registry (tracking
URI) has its own set of names. Written atomically (temporary file, then rename). Each
deployment is recorded in the registry on its alias ``deploy-<name>``."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

from jupyter_mlops.artifacts.trust import state_dir
from jupyter_mlops.deploy.target_fields import NAME
from jupyter_mlops.errors import DeployError

ALIAS_PREFIX = "deploy-"


@dataclass(frozen=True)
class LocalDeployment:
    """A named deployment: ``kind`` rest (a service process at ``url``) or batch (a table)."""

    name: str
    kind: str
    model: str
    version: str
    alias: str
    tracking_uri: str
    created: str
    pid: int | None = None
    url: str | None = None
    log: str | None = None  # the service's output file
    into: str | None = None  # batch: the database URL
    table: str | None = None  # batch: the table name
    source: str | None = None  # batch: the rows scored (a file, or a URL with ``query``)
    query: str | None = None
    key: str | None = None  # batch: the key column

    def to_json(self) -> dict[str, object]:
        """The recorded JSON object (the fields of the other kind, None, left out)."""
        return {key: value for key, value in asdict(self).items() if value is not None}


def deployment_alias(name: str) -> str:
    """The registry alias deployment ``name`` follows: ``deploy-<name>``."""
    return f"{ALIAS_PREFIX}{name}"


def check_name(name: object) -> str:
    """``name`` when it is a deployment name; ``DeployError`` naming it otherwise."""
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise DeployError(
            f"deployment name {name!r} must be letters, digits, '_' and '-'", name=str(name)
        )
    return name


def deployments_folder(tracking_uri: str) -> Path:
    """The folder of the state files of the deployments of registry ``tracking_uri``."""
    digest = hashlib.sha256(tracking_uri.encode()).hexdigest()[:16]
    return state_dir() / "deployments" / digest


def state_path(tracking_uri: str, name: str) -> Path:
    """The state file of deployment ``name``."""
    return deployments_folder(tracking_uri) / f"{check_name(name)}.json"


def read_deployment(tracking_uri: str, name: str) -> LocalDeployment:
    """Deployment ``name``; ``DeployError`` naming it when there is none."""
    path = state_path(tracking_uri, name)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise DeployError(f"no deployment named '{name}' (for {tracking_uri})", name=name) from None
    except ValueError as error:
        raise DeployError(f"unreadable deployment state: {error}", path=str(path)) from None
    return LocalDeployment(**data)


def find_deployment(tracking_uri: str, name: str) -> LocalDeployment | None:
    """Deployment ``name``, None when there is none."""
    return read_deployment(tracking_uri, name) if state_path(tracking_uri, name).exists() else None


def list_deployments(tracking_uri: str) -> list[LocalDeployment]:
    """Every deployment of registry ``tracking_uri``, by name."""
    folder = deployments_folder(tracking_uri)
    names = sorted(path.stem for path in folder.glob("*.json")) if folder.is_dir() else []
    return [read_deployment(tracking_uri, name) for name in names]


def write_deployment(deployment: LocalDeployment) -> None:
    """Record ``deployment`` (replacing its previous state)."""
    path = state_path(deployment.tracking_uri, deployment.name)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    tmp.write_text(json.dumps(deployment.to_json(), indent=1))
    os.replace(tmp, path)


def remove_deployment(deployment: LocalDeployment) -> None:
    """Forget ``deployment`` (its state file)."""
    state_path(deployment.tracking_uri, deployment.name).unlink(missing_ok=True)


def move_deployment_alias(
    deployment: LocalDeployment, version: str | None, reason: str, note: str
) -> None:
    """Point the deployment's alias at ``version`` (None: remove it), recorded."""
    from jupyter_mlops.registry.alias_history import move_alias
    from jupyter_mlops.tracking.store import make_client, mlflow_errors

    target = f"version {version}" if version is not None else "nothing (removed)"
    action = f"point alias '{deployment.alias}' of '{deployment.model}' at {target}"
    with mlflow_errors(deployment.tracking_uri, action):
        client = make_client(deployment.tracking_uri)
        move_alias(client, deployment.model, deployment.alias, version, reason, note=note)
