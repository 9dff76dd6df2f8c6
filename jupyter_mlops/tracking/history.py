"""What MLflow holds about a pipeline's runs: its recent pipeline runs, and which tracking
store runs of a notebook or pipeline folder use.

Read-only queries behind ``GET runs`` and ``GET models/<name>`` of the server extension
(``registry/versions.py`` lists the versions; this adds their gate tags). mlflow is imported
inside functions.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from jupyter_mlops.registry.versions import store_configured
from jupyter_mlops.tracking import tags
from jupyter_mlops.tracking.store import make_client, mlflow_errors

if TYPE_CHECKING:
    from mlflow import MlflowClient

GATE_TAG_PREFIX = tags.GATE


def recent_runs(tracking_uri: str, pipeline: str, limit: int = 20) -> dict[str, Any]:
    """The latest pipeline runs (parent runs) of experiment ``pipeline``, newest first.
    Reading never creates a store: without one there are no runs."""
    if not store_configured(tracking_uri):
        return {"pipeline": pipeline, "experiment_id": None, "runs": []}
    with mlflow_errors(tracking_uri, f"list the runs of '{pipeline}'"):
        client = make_client(tracking_uri)
        experiment = client.get_experiment_by_name(pipeline)
        if experiment is None or experiment.lifecycle_stage == "deleted":
            return {"pipeline": pipeline, "experiment_id": None, "runs": []}
        runs = _parent_runs(client, str(experiment.experiment_id), limit)
    return {
        "pipeline": pipeline,
        "experiment_id": str(experiment.experiment_id),
        "runs": [run_json(run) for run in runs],
    }


def _parent_runs(client: MlflowClient, experiment_id: str, limit: int) -> list[Any]:
    """Runs without a parent, newest first (filtered in Python where the store cannot)."""
    from mlflow.exceptions import MlflowException

    order = ["attributes.start_time DESC"]
    try:
        return list(
            client.search_runs(
                [experiment_id],
                "tags.`mlflow.parentRunId` IS NULL",
                order_by=order,
                max_results=limit,
            )
        )
    except MlflowException:
        runs = client.search_runs([experiment_id], order_by=order, max_results=1000)
        return [r for r in runs if "mlflow.parentRunId" not in r.data.tags][:limit]


def run_json(run: Any) -> dict[str, Any]:
    """A parent run as ``GET runs`` lists it."""
    info, data = run.info, run.data
    return {
        "id": info.run_id,
        "name": info.run_name,
        "start": _iso_ms(info.start_time),
        "end": _iso_ms(info.end_time),
        "status": info.status,
        "mlops_status": data.tags.get(tags.STATUS),
        "model_version": data.tags.get(tags.MODEL_VERSION),
        "source": data.tags.get(tags.SOURCE, "pipeline"),
        "started_from": data.tags.get(tags.STARTED_FROM),
        "error": data.tags.get(tags.ERROR) or data.tags.get(tags.REASON),
        "git_commit": data.tags.get(tags.GIT_COMMIT),
        "gate": data.tags.get(tags.GATE),
        "metrics": dict(sorted(data.metrics.items())),
        "params": dict(sorted(data.params.items())),
    }


def version_gates(tracking_uri: str, name: str) -> dict[str, dict[str, str]]:
    """Version → its gate tags (every ``mlops.gate*`` tag) for registered model ``name``;
    {} without a store or model. ``model_versions.list_model_versions`` gives the rest."""
    if not store_configured(tracking_uri):
        return {}
    escaped = name.replace("'", "\\'")
    with mlflow_errors(tracking_uri, f"read the gate outcomes of model '{name}'"):
        found = make_client(tracking_uri).search_model_versions(f"name = '{escaped}'")
    return {
        str(v.version): {
            k: t for k, t in sorted((v.tags or {}).items()) if k.startswith(GATE_TAG_PREFIX)
        }
        for v in found
    }


def _iso_ms(millis: int | None) -> str | None:
    if not millis:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(millis / 1000))
