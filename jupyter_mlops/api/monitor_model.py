"""Use case ``monitor``: a registered version's production inputs and outcomes compared with
the reference stored with it at registration, window by window (``jupyter_mlops/monitor``).

(Named ``monitor_model`` because ``api.monitoring`` is the panel's overview use case.)"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from jupyter_mlops.errors import MonitorError

if TYPE_CHECKING:
    from jupyter_mlops.monitor.result import MonitorResult
    from jupyter_mlops.monitor.settings import MonitorSettings

__all__ = ["monitor"]


def monitor(
    model: str,
    *,
    data: str | None = None,
    query: str | None = None,
    service_log: str | None = None,
    since: str | None = None,
    window: str | None = None,
    labels: str | None = None,
    report: str | None = None,
    fail_on: Sequence[str] = (),
    tracking_uri: str | None = None,
    pipeline: str | None = None,
) -> MonitorResult:
    """Monitor the version ``model`` names (``M``: its production alias, ``M@ALIAS``,
    ``M/VERSION``) on ``data`` (a .parquet/.csv file, or a database URL with ``query``) or
    on the request log under ``service_log``, from ``since`` (ISO time or a duration back
    from now) in windows of ``window`` (default: ``monitor.window`` of the ``pipeline``
    folder's pipeline.yaml, else 1h). ``labels`` names a label column of ``data``.
    Each window is recorded in MLflow (``<model>-monitoring``); ``report`` writes the HTML
    report. The result says what fired on the latest window; ``result.failed`` whether that
    is something ``fail_on`` names."""
    from jupyter_mlops.monitor.result import SIGNALS
    from jupyter_mlops.monitor.run import MonitorRequest, run_monitor
    from jupyter_mlops.monitor.windows import parse_duration, parse_since

    _check_source(data, query, service_log, labels)
    unknown = [name for name in fail_on if name not in SIGNALS]
    if unknown:
        raise MonitorError(
            f"--fail-on '{unknown[0]}' is not one of {', '.join(SIGNALS)}", name="--fail-on"
        )
    settings, project = _settings(pipeline)
    window_text = window or settings.window
    window_length, since_time = parse_duration(window_text), parse_since(since)
    name, version, uri = _version(model, tracking_uri, project)
    request = MonitorRequest(
        tracking_uri=uri,
        model=name,
        selector=model,
        version=version,
        settings=settings,
        window=window_length,
        window_text=window_text,
        data=data,
        query=query,
        service_log=service_log,
        since=since_time,
        labels=labels,
        fail_on=list(dict.fromkeys(fail_on)),
    )
    result = run_monitor(request)
    if report is not None:
        _write_report(result, report, uri)
    return result


def _check_source(
    data: str | None, query: str | None, service_log: str | None, labels: str | None
) -> None:
    if (data is None) == (service_log is None):
        raise MonitorError("give exactly one of --data SOURCE and --service-log DIR", name="--data")
    if query is not None and data is None:
        raise MonitorError("--query needs --data with a database URL", name="--query")
    if labels is not None and data is None:
        raise MonitorError(
            "--labels names a column of --data; a service log's labels come from its feedback",
            name="--labels",
        )


def _settings(pipeline: str | None) -> tuple[MonitorSettings, Path | None]:
    """The ``monitor:`` settings of the pipeline folder (defaults without one) and the
    folder's project root (where the default tracking store is)."""
    from jupyter_mlops.monitor.settings import MonitorSettings, monitor_settings

    if pipeline is None:
        return MonitorSettings(), None
    from jupyter_mlops.pipeline.pipeline_file import read_pipeline_file
    from jupyter_mlops.tracking.gitinfo import project_root

    pipeline_file = read_pipeline_file(pipeline)
    raw = pipeline_file.settings.get("monitor")
    settings = monitor_settings(raw, str(Path(pipeline_file.folder) / "pipeline.yaml"))
    return settings, Path(project_root(pipeline_file.folder))


def _version(model: str, tracking_uri: str | None, project: Path | None) -> tuple[str, str, str]:
    """(registered name, version number, tracking URI) of the version ``model`` names."""
    from jupyter_mlops.registry.model_ref import parse_model_ref, resolve_version
    from jupyter_mlops.registry.promotion import resolve_model
    from jupyter_mlops.tracking.store import make_client, mlflow_errors, resolve_tracking_uri

    ref = parse_model_ref(model)
    name, uri = resolve_model(ref.name, tracking_uri)
    if project is not None and tracking_uri is None:
        uri = resolve_tracking_uri(None, project)
    with mlflow_errors(uri, f"find {ref}"):
        version = resolve_version(make_client(uri), ref)
    return name, version, uri


def _write_report(result: MonitorResult, path: str, tracking_uri: str) -> None:
    """The HTML report at ``path``, also attached to the latest window's MLflow run."""
    from jupyter_mlops.monitor.recording import log_report
    from jupyter_mlops.monitor.report_html import write_report

    result.report = str(Path(path).absolute())
    write_report(result.to_json(), path)
    latest = result.windows[-1].mlflow_run_id if result.windows else None
    if latest is not None:
        log_report(tracking_uri, latest, path)
