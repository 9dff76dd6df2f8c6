"""The registered versions of a pipeline's model: aliases, metrics, lineage (read-only).

Core module; mlflow is imported only when versions are actually listed. Metrics and
parameters of a version are those of the pipeline run that trained it (the parent of the
step run that logged the model), without ``duration_seconds``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jupyter_mlops.tracking.store import DURATION_METRIC, make_client, mlflow_errors, sqlite_path
from jupyter_mlops.tracking.tags import GATE, GATE_REASONS

MAX_VERSIONS = 10


@dataclass
class ModelVersionInfo:
    """One registered model version as the panels show it."""

    name: str
    version: str
    aliases: list[str] = field(default_factory=list)
    created_ms: int = 0
    run_id: str | None = None
    pipeline_run_id: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)  # as MLflow recorded them (text)
    gate: str | None = None  # tag mlops.gate: validated | rejected (model validation)
    gate_reasons: str | None = None  # tag mlops.gate.reasons

    def to_json(self) -> dict[str, Any]:
        """Plain JSON form."""
        return {
            "name": self.name,
            "version": self.version,
            "aliases": list(self.aliases),
            "created_ms": self.created_ms,
            "run_id": self.run_id,
            "pipeline_run_id": self.pipeline_run_id,
            "metrics": dict(self.metrics),
            "params": dict(self.params),
            "gate": self.gate,
            "gate_reasons": self.gate_reasons,
        }


def store_configured(tracking_uri: str) -> bool:
    """True when there is a store to read: a SQLite database that exists, or any other URI
    (a server, a ``file:`` store) that was configured. Reading never creates a store."""
    db = sqlite_path(tracking_uri)
    if db is not None:
        return db.is_file()
    return bool(tracking_uri) and not tracking_uri.startswith("sqlite:")


def list_model_versions(
    tracking_uri: str, name: str, limit: int = MAX_VERSIONS
) -> list[ModelVersionInfo]:
    """The newest ``limit`` versions of registered model ``name`` (newest first); [] when
    the model does not exist. Errors are one-line TrackingErrors."""
    with mlflow_errors(tracking_uri, f"list the versions of model '{name}'"):
        client = make_client(tracking_uri)  # imports mlflow first, under a lock
        from mlflow.exceptions import MlflowException

        try:
            aliases = client.get_registered_model(name).aliases or {}
        except MlflowException as exc:
            if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
                return []
            raise
        by_version: dict[str, list[str]] = {}
        for alias, version in sorted(aliases.items()):
            by_version.setdefault(str(version), []).append(alias)
        found = client.search_model_versions(f"name = '{_quoted(name)}'")
        newest = sorted(found, key=lambda v: int(v.version), reverse=True)[:limit]
        return [_info(client, v, by_version.get(str(v.version), [])) for v in newest]


def version_with_tag(
    tracking_uri: str, name: str, key: str, value: str
) -> tuple[str, dict[str, str]] | None:
    """(version, its tags) of the oldest version of registered model ``name`` whose tag
    ``key`` is ``value``; None when there is none (or no such model)."""
    query = f"name = '{_quoted(name)}' and tags.`{key}` = '{_quoted(value)}'"
    with mlflow_errors(tracking_uri, f"look up the versions of model '{name}'"):
        found = make_client(tracking_uri).search_model_versions(query)
    matching = [v for v in found if (v.tags or {}).get(key) == value]
    if not matching:
        return None
    oldest = min(matching, key=lambda v: int(v.version))
    return str(oldest.version), dict(oldest.tags or {})


def _info(client: Any, version: Any, aliases: list[str]) -> ModelVersionInfo:
    run_id = version.run_id or None
    parent_id, metrics, params = _training_run(client, run_id) if run_id else (None, {}, {})
    tags = version.tags or {}
    return ModelVersionInfo(
        name=version.name,
        version=str(version.version),
        aliases=aliases,
        created_ms=int(version.creation_timestamp or 0),
        run_id=run_id,
        pipeline_run_id=parent_id,
        metrics=metrics,
        params=params,
        gate=tags.get(GATE),
        gate_reasons=tags.get(GATE_REASONS),
    )


def _training_run(client: Any, run_id: str) -> tuple[str | None, dict[str, float], dict[str, str]]:
    """(parent run id, its metrics, its parameters) of the step run that logged the model;
    the step run's own when it has no parent or the parent is gone."""
    from mlflow.exceptions import MlflowException

    try:
        run = client.get_run(run_id)
    except MlflowException:
        return None, {}, {}
    parent_id = run.data.tags.get("mlflow.parentRunId")
    source = run
    if parent_id:
        try:
            source = client.get_run(parent_id)
        except MlflowException:
            parent_id = None
    metrics = {k: float(v) for k, v in source.data.metrics.items() if k != DURATION_METRIC}
    return parent_id, dict(sorted(metrics.items())), dict(sorted(source.data.params.items()))


def _quoted(name: str) -> str:
    return name.replace("'", "\\'")
