"""The monitoring windows a ``drift`` or ``decay`` trigger reads from MLflow.

``jupyter mlops monitor`` records one run per window in experiment ``<model>-monitoring``,
tagged ``mlops.monitor.window_start`` (ISO UTC, so text order is time order), with metrics
``drift.dataset`` (1.0 when the dataset drifted) and ``perf.<metric>``. A trigger reads the
latest N windows by that tag.
"""

from __future__ import annotations

from dataclasses import dataclass

WINDOW_START = "mlops.monitor.window_start"
WINDOW_END = "mlops.monitor.window_end"
DRIFT_METRIC = "drift.dataset"
DRIFT_SHARE = "drift.share"
PERF_PREFIX = "perf."


def monitoring_experiment(model: str) -> str:
    """The experiment holding ``model``'s monitoring windows."""
    return f"{model}-monitoring"


@dataclass(frozen=True)
class Window:
    """One monitoring window: its start and end (ISO) and its metrics."""

    start: str
    end: str
    metrics: dict[str, float]
    run_id: str


def latest_windows(tracking_uri: str, model: str, count: int) -> list[Window]:
    """The latest ``count`` windows of ``model`` (newest first); fewer when fewer exist."""
    from jupyter_mlops.tracking.store import make_client, mlflow_errors

    experiment = monitoring_experiment(model)
    with mlflow_errors(tracking_uri, f"read the monitoring windows of '{model}'"):
        client = make_client(tracking_uri)
        found = client.get_experiment_by_name(experiment)
        if found is None:
            return []
        runs = client.search_runs(
            [found.experiment_id],
            filter_string=f"tags.`{WINDOW_START}` LIKE '%'",
            order_by=[f"tags.`{WINDOW_START}` DESC"],
            max_results=count,
        )
    return [
        Window(
            run.data.tags[WINDOW_START],
            run.data.tags.get(WINDOW_END, ""),
            dict(run.data.metrics),
            run.info.run_id,
        )
        for run in runs
    ]
