"""The monitoring windows of a model as MLflow holds them, read back for the panel.

``monitor`` records one run per window in experiment ``<model>-monitoring`` (tags
``mlops.monitor.window_start`` / ``window_end``, ``mlops.monitor.versions`` and
``mlops.monitor.tests`` (JSON); metrics ``rows``, ``drift.share``, ``drift.dataset``,
``drift.<column>`` + ``drift.<column>.drifted``, ``prediction_drift`` +
``prediction_drift.drifted``, ``perf.<metric>``, ``perf.estimated``); the latest window run
may carry the HTML report as artifact (tag ``mlops.monitor.report``). Reading never creates
a store nor an experiment.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyter_mlops.errors import TrackingError

EXPERIMENT_SUFFIX = "-monitoring"
WINDOW_START_TAG = "mlops.monitor.window_start"
WINDOW_END_TAG = "mlops.monitor.window_end"
SOURCE_TAG = "mlops.monitor.source"
VERSIONS_TAG = "mlops.monitor.versions"
REPORT_TAG = "mlops.monitor.report"
TESTS_TAG = "mlops.monitor.tests"
"""JSON ``{column: test}``: the drift test of each column (``ks``, ``chi2``, ``psi``, …)."""
DRIFT_METRIC = "drift.dataset"
DRIFT_SHARE = "drift.share"
DRIFTED_SUFFIX = ".drifted"
PERF_PREFIX = "perf."
ESTIMATED_METRIC = "perf.estimated"
MAX_REPORT_BYTES = 50 * 1024 * 1024
"""A report larger than this is not served (a self-contained report is a few MB)."""


def monitoring_experiment(model: str) -> str:
    """The MLflow experiment holding the monitoring windows of registered model ``model``."""
    return model + EXPERIMENT_SUFFIX


@dataclass(frozen=True)
class WindowRun:
    """One recorded window: its run, bounds, tags and metrics."""

    run_id: str
    start: str
    end: str
    source: str | None
    tags: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def report(self) -> str | None:
        """The artifact path of the HTML report logged with this window, if any."""
        return self.tags.get(REPORT_TAG) or None

    def versions(self) -> dict[str, int] | None:
        """Rows per model version in the window, when ``monitor`` tagged them."""
        try:
            shown = json.loads(self.tags.get(VERSIONS_TAG, ""))
        except ValueError:
            return None
        if not isinstance(shown, dict):
            return None
        return {str(k): int(v) for k, v in shown.items() if isinstance(v, int | float)}

    def tests(self) -> dict[str, str]:
        """The drift test of each column, when ``monitor`` tagged them."""
        try:
            shown = json.loads(self.tags.get(TESTS_TAG, ""))
        except ValueError:
            return {}
        return {str(k): str(v) for k, v in shown.items()} if isinstance(shown, dict) else {}

    def drift_columns(self) -> list[dict[str, Any]]:
        """``[{"column", "test", "statistic", "drifted"}]`` per feature, in name order: every
        ``drift.<column>`` that has its ``drift.<column>.drifted`` companion."""
        tests = self.tests()
        columns = []
        for key in sorted(self.metrics):
            if not (key.startswith("drift.") and key.endswith(DRIFTED_SUFFIX)):
                continue
            column = key[len("drift.") : -len(DRIFTED_SUFFIX)]
            columns.append(
                {
                    "column": column,
                    "test": tests.get(column),
                    "statistic": self.metrics.get(f"drift.{column}"),
                    "drifted": self.metrics[key] >= 0.5,
                }
            )
        return columns

    def prediction_drift(self) -> dict[str, Any] | None:
        """``{"statistic", "drifted"}`` of the predictions against the reference, if measured."""
        if "prediction_drift" not in self.metrics:
            return None
        drifted = self.metrics.get("prediction_drift" + DRIFTED_SUFFIX)
        return {
            "statistic": self.metrics["prediction_drift"],
            "drifted": None if drifted is None else drifted >= 0.5,
        }

    def performance(self) -> dict[str, float]:
        """``perf.<metric>`` values by metric name (``perf.estimated`` excluded)."""
        return {
            key[len(PERF_PREFIX) :]: value
            for key, value in sorted(self.metrics.items())
            if key.startswith(PERF_PREFIX) and key != ESTIMATED_METRIC
        }

    @property
    def estimated(self) -> bool:
        """True when the performance was estimated without labels (CBPE)."""
        return self.metrics.get(ESTIMATED_METRIC, 0.0) >= 0.5


def window_runs(tracking_uri: str, model: str, limit: int) -> list[WindowRun] | None:
    """The latest ``limit`` windows of ``model``, newest first (by window start, then by
    when recorded); None when the model was never monitored (no experiment)."""
    from jupyter_mlops.registry.versions import store_configured
    from jupyter_mlops.tracking.store import make_client, mlflow_errors

    if not store_configured(tracking_uri):
        return None
    with mlflow_errors(tracking_uri, f"read the monitoring windows of model '{model}'"):
        client = make_client(tracking_uri)
        experiment = client.get_experiment_by_name(monitoring_experiment(model))
        if experiment is None or experiment.lifecycle_stage == "deleted":
            return None
        runs = client.search_runs(
            [experiment.experiment_id],
            filter_string=f"tags.`{WINDOW_START_TAG}` != ''",
            order_by=[f"tags.`{WINDOW_START_TAG}` DESC", "attributes.start_time DESC"],
            max_results=limit,
        )
    return [_window_run(run) for run in runs]


def _window_run(run: Any) -> WindowRun:
    tags = dict(run.data.tags)
    return WindowRun(
        run_id=run.info.run_id,
        start=tags.get(WINDOW_START_TAG, ""),
        end=tags.get(WINDOW_END_TAG, ""),
        source=tags.get(SOURCE_TAG),
        tags={k: v for k, v in tags.items() if k.startswith("mlops.monitor.")},
        metrics={k: float(v) for k, v in run.data.metrics.items()},
    )


def report_html(tracking_uri: str, window: WindowRun) -> bytes:
    """The HTML report logged with ``window`` (``window.report`` must be set)."""
    from jupyter_mlops.tracking.store import make_client, mlflow_errors

    artifact = window.report
    if not artifact:
        raise TrackingError(f"window run {window.run_id} has no report", path=tracking_uri)
    with (
        tempfile.TemporaryDirectory(prefix="mlops-report-") as folder,
        mlflow_errors(tracking_uri, f"download the report of window run {window.run_id}"),
    ):
        local = Path(make_client(tracking_uri).download_artifacts(window.run_id, artifact, folder))
        size = local.stat().st_size
        if size > MAX_REPORT_BYTES:
            raise TrackingError(
                f"the report of window run {window.run_id} is {size:,} bytes; at most "
                f"{MAX_REPORT_BYTES:,} are served",
                path=tracking_uri,
            )
        return local.read_bytes()
