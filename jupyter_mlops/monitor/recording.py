"""Monitoring windows recorded in MLflow: experiment ``<model>-monitoring``, one run per
window named ``window <start>``, tagged with the window's start and end (ISO UTC), a short
id of the source, the model, the rows per version and each column's drift test. Monitoring the same window of the
same source again updates that run (found by those tags) instead of adding one.

Data without a time column is one window recorded at the time it was monitored (its start
and end are that moment), so every monitoring of such data is its own run.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from jupyter_mlops.monitor.result import WindowResult
from jupyter_mlops.monitor.window_runs import (
    DRIFT_METRIC,
    DRIFT_SHARE,
    REPORT_TAG,
    SOURCE_TAG,
    TESTS_TAG,
    VERSIONS_TAG,
    WINDOW_END_TAG,
    WINDOW_START_TAG,
    monitoring_experiment,
)

MODEL_TAG = "mlops.monitor.model"


def source_id(kind: str, location: str, query: str | None = None) -> str:
    """A short, stable id of a source (its kind, location and query)."""
    text = json.dumps([kind, location, query])
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def window_metrics(window: WindowResult) -> dict[str, float]:
    """The metrics of one window run, named as the contract says."""
    metrics: dict[str, float] = {"rows": window.rows}
    drift = window.drift
    metrics[DRIFT_SHARE] = drift["share"]
    metrics[DRIFT_METRIC] = 1.0 if drift["drifted"] else 0.0
    for column in drift["columns"]:
        metrics[f"drift.{column['column']}"] = column["statistic"]
        metrics[f"drift.{column['column']}.drifted"] = 1.0 if column["drifted"] else 0.0
    reference = window.prediction_drift.get("reference")
    if reference is not None:
        metrics["prediction_drift"] = reference["statistic"]
        metrics["prediction_drift.drifted"] = 1.0 if reference["drifted"] else 0.0
    between = window.prediction_drift.get("between_versions")
    if between is not None:
        metrics["prediction_drift.versions"] = between["statistic"]
        metrics["prediction_drift.versions.drifted"] = 1.0 if between["drifted"] else 0.0
    if window.performance is not None:
        for name, value in window.performance["metrics"].items():
            metrics[f"perf.{name}"] = value
        metrics["perf.estimated"] = 1.0 if window.performance["source"] == "cbpe" else 0.0
    return metrics


def record_windows(
    tracking_uri: str, model: str, source: str, windows: list[WindowResult], now: datetime
) -> str:
    """Log each window as a run of ``<model>-monitoring`` (``mlflow_run_id`` is set on each
    window); returns the experiment name."""
    from jupyter_mlops.tracking.store import (
        default_artifact_location,
        get_or_create_experiment,
        log_batch,
        make_client,
        mlflow_errors,
    )

    name = monitoring_experiment(model)
    with mlflow_errors(tracking_uri, f"record the monitoring windows of model '{model}'"):
        client = make_client(tracking_uri)
        experiment_id = get_or_create_experiment(
            client, name, default_artifact_location(tracking_uri)
        )
        for window in windows:
            start = (window.start or now).isoformat()
            end = (window.end or now).isoformat()
            tags = {
                WINDOW_START_TAG: start,
                WINDOW_END_TAG: end,
                SOURCE_TAG: source,
                MODEL_TAG: model,
                VERSIONS_TAG: json.dumps(window.versions),
                TESTS_TAG: json.dumps(
                    {column["column"]: column["test"] for column in window.drift["columns"]},
                    sort_keys=True,
                ),
            }
            run_id = _window_run(client, experiment_id, tags, f"window {start}")
            log_batch(client, run_id, metrics=window_metrics(window), tags=tags)
            client.set_terminated(run_id, "FINISHED")
            window.mlflow_run_id = run_id
    return name


def log_report(tracking_uri: str, run_id: str, path: str) -> None:
    """Attach the HTML report at ``path`` to window run ``run_id`` (tag ``REPORT_TAG``)."""
    from pathlib import Path

    from jupyter_mlops.tracking.store import make_client, mlflow_errors

    with mlflow_errors(tracking_uri, "log the monitoring report"):
        client = make_client(tracking_uri)
        client.log_artifact(run_id, path, "report")
        client.set_tag(run_id, REPORT_TAG, f"report/{Path(path).name}")


def _window_run(client: Any, experiment_id: str, tags: dict[str, str], run_name: str) -> str:
    """The run of this window, source and model: the existing one, else a new one."""
    keys = (WINDOW_START_TAG, SOURCE_TAG, MODEL_TAG)
    conditions = " and ".join(f"tags.`{key}` = '{_quoted(tags[key])}'" for key in keys)
    found = client.search_runs([experiment_id], filter_string=conditions, max_results=1)
    if found:
        return str(found[0].info.run_id)
    return str(client.create_run(experiment_id, tags=tags, run_name=run_name).info.run_id)


def _quoted(value: str) -> str:
    return value.replace("'", "\\'")
