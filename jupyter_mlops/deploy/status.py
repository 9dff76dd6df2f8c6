"""The live state of a pipeline's deploy targets, as the panel shows it.

Per target of the ``deploy:`` section: its settings, what its prediction service answers on
``/version`` and ``/stats`` (asked with a short timeout; a service that does not answer is a
state, ``reachable: false`` with the reason, never an error) and the latest moves of its
alias from the registry's history.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jupyter_mlops.deploy.rollout.service_client import ServiceClient
from jupyter_mlops.deploy.targets import RestTarget, Target
from jupyter_mlops.errors import DeployError, MlopsError

if TYPE_CHECKING:
    from jupyter_mlops.registry.alias_history import AliasMove

STATUS_TIMEOUT = 2.0
"""Seconds the panel waits for a service's ``/version`` and ``/stats``."""

STAT_KEYS = ("requests", "errors", "error_rate", "p50_ms", "p95_ms", "p99_ms")


def deployments_status(
    folder: Path, tracking_uri: str | None = None, history_limit: int = 10
) -> dict[str, Any]:
    """``{"folder", "pipeline", "model", "problem", "targets": [target settings + "service"
    (:func:`service_state`) + "history" (its alias's latest moves, newest first)]}`` of the
    pipeline folder ``folder``; ``problem`` says why the model or its history could not be
    read. A folder without pipeline.yaml has no targets."""
    from jupyter_mlops.deploy.targets import read_targets
    from jupyter_mlops.pipeline.pipeline_file import PIPELINE_FILE, read_pipeline_file

    shown: dict[str, Any] = {"folder": str(folder), "pipeline": None, "model": None}
    if not (folder / PIPELINE_FILE).is_file():
        return {**shown, "problem": None, "targets": []}
    pipeline_file = read_pipeline_file(folder)
    targets = read_targets(pipeline_file)
    models: dict[str | None, DeployedModel] = {}
    for settings in targets.values():
        if settings.model not in models:
            models[settings.model] = deployed_model(folder, tracking_uri, settings.model)
    first = next(iter(targets.values()), None)
    model, _, problem, _ = models[first.model] if first else deployed_model(folder, tracking_uri)
    return {
        **shown,
        "pipeline": pipeline_file.pipeline.name,
        "model": model,
        "problem": problem,
        "targets": [
            _target_state(settings, *models[settings.model], history_limit)
            for settings in targets.values()
        ],
    }


def _target_state(
    settings: Target,
    model: str | None,
    moves: list[AliasMove],
    problem: str | None,
    tracking_uri: str | None,
    history_limit: int,
) -> dict[str, Any]:
    """One target: its settings, its live state (a rest target's service as ``service``,
    another kind's table, package or deployment as ``state``), its last rollout's outcome
    and checks (``verification``) and its alias's latest moves."""
    from jupyter_mlops.deploy.kinds import kind_actions

    newest_first = [move.to_json() for move in reversed(moves) if move.alias == settings.alias]
    live = kind_actions(settings.kind).state(settings, model, tracking_uri)
    return {
        **settings.to_json(),
        "model": model,
        "problem": problem,
        "service" if settings.kind == "rest" else "state": live,
        "verification": _last_verification(tracking_uri, model, settings.name),
        "history": newest_first[:history_limit],
    }


def _last_verification(
    tracking_uri: str | None, model: str | None, target: str
) -> dict[str, Any] | None:
    """The last recorded rollout to ``target`` (``record.latest_rollout``), None when
    there is none or the store cannot say."""
    from jupyter_mlops.deploy.rollout.record import latest_rollout
    from jupyter_mlops.registry.versions import store_configured
    from jupyter_mlops.tracking.store import make_client, mlflow_errors

    if tracking_uri is None or model is None or not store_configured(tracking_uri):
        return None
    try:
        with mlflow_errors(tracking_uri, f"read the rollouts of model '{model}'"):
            return latest_rollout(make_client(tracking_uri), model, target)
    except MlopsError:
        return None


DeployedModel = tuple[str | None, list["AliasMove"], str | None, str | None]
"""(registered model, its alias moves oldest first, why either is unknown, tracking URI)."""


def deployed_model(
    folder: Path, tracking_uri: str | None, model: str | None = None
) -> DeployedModel:
    """(registered model, its recorded alias moves oldest first, why either is unknown,
    the tracking URI) of the pipeline in ``folder``; reading never creates a store."""
    from jupyter_mlops.registry.alias_history import alias_history
    from jupyter_mlops.registry.promotion import resolve_model
    from jupyter_mlops.registry.versions import store_configured
    from jupyter_mlops.tracking.store import make_client, mlflow_errors

    try:
        name, uri = resolve_model(str(folder), tracking_uri, model)
    except MlopsError as error:
        return None, [], error.message, tracking_uri
    if not store_configured(uri):
        return name, [], None, uri
    try:
        with mlflow_errors(uri, f"read the alias history of model '{name}'"):
            return name, alias_history(make_client(uri), name), None, uri
    except MlopsError as error:
        return name, [], error.message, uri


def service_state(
    target: RestTarget, model: str | None, timeout: float = STATUS_TIMEOUT
) -> dict[str, Any]:
    """What the service of ``target`` serves: ``{"url", "reachable", "problem", "model",
    "alias", "alias_version", "ready", "rollout", "versions": [{"version", "share", "role",
    "batching", "loaded_at", "stats": {requests, errors, error_rate, p50_ms, p95_ms, p99_ms}
    | None}], "service_problems"}``. ``problem`` says why the service could not be asked,
    or that it serves another model or alias than ``model``@``target.alias``."""
    state: dict[str, Any] = {"url": target.url, "reachable": False, "problem": None}
    try:
        client = replace(ServiceClient.for_target(target.url, target.token_env), timeout=timeout)
        info = client.get_json("/version")
    except DeployError as error:
        return {**state, "problem": error.message}
    if not isinstance(info, dict):
        return {**state, "problem": f"{target.url}/version did not answer a JSON object"}
    stats = _stats(client)
    state.update(
        reachable=True,
        model=info.get("model"),
        alias=info.get("alias"),
        alias_version=_text(info.get("alias_version")),
        ready=bool(info.get("ready")),
        rollout=info.get("rollout"),
        versions=[_version(entry, stats) for entry in info.get("versions") or []],
        service_problems=[str(p) for p in (info.get("problems") or {}).values()],
    )
    served = (info.get("model"), info.get("alias"))
    if model is not None and served != (model, target.alias):
        state["problem"] = (
            f"the service at {target.url} serves {served[0]}@{served[1]}, "
            f"not {model}@{target.alias}"
        )
    return state


def _stats(client: ServiceClient) -> dict[str, Any]:
    """Per version, the metrics since the service started ({} when /stats does not answer)."""
    try:
        snapshot = client.get_json("/stats")
    except DeployError:
        return {}
    versions = snapshot.get("versions") if isinstance(snapshot, dict) else None
    return versions if isinstance(versions, dict) else {}


def _version(entry: Any, stats: dict[str, Any]) -> dict[str, Any]:
    """One served version of ``/version`` with its metrics."""
    entry = entry if isinstance(entry, dict) else {}
    version = _text(entry.get("version"))
    measured = stats.get(version or "")
    return {
        "version": version,
        "share": entry.get("share", 0),
        "role": entry.get("role"),
        "batching": entry.get("batching"),
        "loaded_at": entry.get("loaded_at"),
        "stats": (
            {key: measured.get(key) for key in STAT_KEYS} if isinstance(measured, dict) else None
        ),
    }


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
