"""Named REST deployments: a detached ``jupyter mlops serve`` process following the
registry alias ``deploy-<name>``, which create/update point at a version (recorded in the
alias history). The registry stays the source of truth: updating moves the alias and the
service hot-swaps; deleting stops the process, removes the alias and the state file."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jupyter_mlops.deploy.local_service.process import (
    ServiceCommand,
    is_service,
    remove_service_files,
    start_service,
    stop_process,
)
from jupyter_mlops.deploy.local_service.state import (
    LocalDeployment,
    deployment_alias,
    find_deployment,
    move_deployment_alias,
    remove_deployment,
    state_path,
    write_deployment,
)
from jupyter_mlops.deploy.rollout.service_client import ServiceClient
from jupyter_mlops.errors import DeployError

FOLLOW_TIMEOUT = 120.0
FOLLOW_POLL = 0.2


def create_rest(
    tracking_uri: str, name: str, model: str, version: str, host: str, port: int
) -> LocalDeployment:
    """Point ``deploy-<name>`` at ``version`` of ``model`` and start its service on
    ``host``:``port`` (0: a free port); nothing is left behind when the start fails."""
    if find_deployment(tracking_uri, name) is not None:
        raise DeployError(f"a deployment named '{name}' exists: update or delete it", name=name)
    output = state_path(tracking_uri, name).with_suffix(".log")
    created = datetime.now(UTC).isoformat(timespec="seconds")
    deployment = LocalDeployment(
        name, "rest", model, version, deployment_alias(name), tracking_uri, created, log=str(output)
    )
    note = f"jupyter-mlops deployment {name}"
    move_deployment_alias(deployment, version, "deploy", note)
    try:
        command = ServiceCommand(model, deployment.alias, tracking_uri, host, port)
        pid, url = start_service(command, output)
    except BaseException:
        move_deployment_alias(deployment, None, "undeploy", f"{note}: the service did not start")
        remove_service_files(output)
        raise
    deployment = replace(deployment, pid=pid, url=url)
    write_deployment(deployment)
    return deployment


def update_rest(deployment: LocalDeployment, version: str) -> LocalDeployment:
    """Move the deployment's alias to ``version``; returns once its service serves it."""
    move_deployment_alias(
        deployment, version, "deploy", f"jupyter-mlops deployment {deployment.name} updated"
    )
    updated = replace(deployment, version=version)
    write_deployment(updated)
    _wait_serving(updated)
    return updated


def delete_rest(deployment: LocalDeployment) -> None:
    """Stop the service, remove the alias and forget the deployment."""
    if deployment.pid is not None:
        stop_process(deployment.pid)
    if deployment.log is not None:
        remove_service_files(Path(deployment.log))
    move_deployment_alias(
        deployment, None, "undeploy", f"jupyter-mlops deployment {deployment.name} deleted"
    )
    remove_deployment(deployment)


def describe_rest(deployment: LocalDeployment) -> dict[str, Any]:
    """The deployment's record plus its service's state: ``running`` and, when it
    answers, the version it serves (``served_version``) and whether it is ready."""
    running = deployment.pid is not None and is_service(deployment.pid)
    described: dict[str, Any] = {**deployment.to_json(), "running": running}
    if running and deployment.url:
        try:
            info = ServiceClient(deployment.url, timeout=5).get_json("/version")
        except DeployError as error:
            return {**described, "problem": str(error)}
        described["served_version"] = info.get("alias_version")
        described["ready"] = bool(info.get("ready"))
    return described


def predict_rest(deployment: LocalDeployment, body: dict[str, Any]) -> dict[str, Any]:
    """``POST /invocations`` of ``body`` to the deployment's service; its JSON answer."""
    if deployment.url is None:
        raise DeployError(
            f"deployment '{deployment.name}' has no service URL", name=deployment.name
        )
    answer = ServiceClient(deployment.url).predict(body)
    data = answer.json()
    if answer.status != 200 or not isinstance(data, dict):
        raise DeployError(
            f"deployment '{deployment.name}' at {deployment.url} answered {answer.status}: "
            f"{answer.body[:300].decode(errors='replace')}",
            name=deployment.name,
        )
    return data


def _wait_serving(deployment: LocalDeployment) -> None:
    """Wait until the service shows the deployment's version on its alias."""
    deadline = time.monotonic() + FOLLOW_TIMEOUT
    while True:
        state = describe_rest(deployment)
        if state.get("served_version") == deployment.version and state.get("ready"):
            return
        if not state["running"]:
            raise DeployError(
                f"the service of deployment '{deployment.name}' is not running "
                f"(output: {deployment.log})",
                name=deployment.name,
            )
        if time.monotonic() > deadline:
            raise DeployError(
                f"the service of deployment '{deployment.name}' did not load version "
                f"{deployment.version} within {FOLLOW_TIMEOUT:g}s: {state.get('problem') or ''}",
                name=deployment.name,
            )
        time.sleep(FOLLOW_POLL)
