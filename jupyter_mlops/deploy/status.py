"""The live state of a pipeline's deploy targets, as the panel shows it.

Per target of the ``deploy:`` section: its settings, what its prediction service answers on
``/version`` and ``/stats`` (asked with a short timeout; a service that does not answer is a
state, ``reachable: false`` with the reason, never an error) and the latest moves of its
alias from the registry's history.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from jupyter_mlops.deploy.rollout.service_client import ServiceClient
from jupyter_mlops.deploy.targets import Target
from jupyter_mlops.errors import DeployError

STATUS_TIMEOUT = 2.0
"""Seconds the panel waits for a service's ``/version`` and ``/stats``."""

STAT_KEYS = ("requests", "errors", "error_rate", "p50_ms", "p95_ms", "p99_ms")


def service_state(
    target: Target, model: str | None, timeout: float = STATUS_TIMEOUT
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
