"""The Monitoring overview of a pipeline, for the panel: per registered model the latest
monitoring window and the performance trend, and the pipeline's triggers. Re-exported by
:mod:`jupyter_mlops.api`.

``monitoring(path)`` returns (JSON-able)::

    {"folder": str, "pipeline": str | None, "problem": str | None,
     "models": [{
        "name": "iris", "step": "train", "experiment": "iris-monitoring",
        "monitored": bool, "hint": "start with: jupyter mlops monitor iris --service-log DIR" | None,
        "problem": str | None,            # why the windows could not be read
        "latest": None | {"run_id", "start", "end", "rows", "versions": {"3": 800} | None,
                          "drift": {"share", "dataset_drifted",
                                    "columns": [{"column", "test", "statistic", "drifted"}]},
                          "prediction_drift": {"statistic", "drifted"} | None,
                          "performance": {"metrics": {"accuracy": 0.93}, "estimated": bool} | None,
                          "report": bool},
        "trend": {"windows": int,         # windows read (the latest ``windows``)
                  "metrics": {"accuracy": [{"start", "value", "estimated"}, ...]}}  # oldest first
     }],
     "triggers": [{"name", "kind", "settings": "cron 0 3 * * * (UTC)", "cooldown_seconds",
                   "deploy": str | None, "last_evaluated": ISO | None, "last_fired": ISO | None,
                   "reason": str | None, "last_run": {"run_id", "status"} | None,
                   "cooldown_remaining_seconds": int}],   # from triggers/config.py, state.py
     "triggers_problem": str | None}      # a malformed triggers: section or state file
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jupyter_mlops.errors import MlopsError
from jupyter_mlops.pipeline.layout import resolve_target

if TYPE_CHECKING:
    from jupyter_mlops.monitor.window_runs import WindowRun
    from jupyter_mlops.pipeline.pipeline_file import PipelineFile
    from jupyter_mlops.triggers.config import Trigger
    from jupyter_mlops.triggers.state import TriggerState

TREND_WINDOWS = 20
"""Windows the performance trend covers by default."""


def monitoring(
    target: str | Path, tracking_uri: str | None = None, windows: int = TREND_WINDOWS
) -> dict[str, Any]:
    """The Monitoring overview of the pipeline of ``target`` (folder or notebook); the
    shape is this module's docstring. A model never monitored has ``monitored: false``
    and a ``hint`` saying how to start; a folder not extracted yet has no models."""
    from jupyter_mlops.pipeline.pipeline_file import PIPELINE_FILE, read_pipeline_file

    folder = resolve_target(target).folder
    shown: dict[str, Any] = {"folder": str(folder), "pipeline": None, "problem": None}
    if not (folder / PIPELINE_FILE).is_file():
        return {**shown, "models": [], "triggers": [], "triggers_problem": None}
    pipeline_file = read_pipeline_file(folder)
    uri = _tracking_uri(folder, tracking_uri)
    models = [
        model_monitoring(uri, name, step, windows)
        for step, name in _model_names(pipeline_file.pipeline).items()
    ]
    triggers, triggers_problem = triggers_overview(pipeline_file)
    return {
        **shown,
        "pipeline": pipeline_file.pipeline.name,
        "models": models,
        "triggers": triggers,
        "triggers_problem": triggers_problem,
    }


def monitoring_report(
    target: str | Path, model: str, tracking_uri: str | None = None
) -> bytes | None:
    """The HTML report logged with the latest window of ``model`` (one of the registered
    models of the pipeline of ``target``); None when that window has none."""
    from jupyter_mlops.errors import PipelineError
    from jupyter_mlops.monitor.window_runs import report_html, window_runs
    from jupyter_mlops.pipeline.pipeline_file import read_pipeline_file

    pipeline_file = read_pipeline_file(resolve_target(target).folder)
    names = list(_model_names(pipeline_file.pipeline).values())
    if model not in names:
        known = ", ".join(names) or "none"
        raise PipelineError(
            f"model '{model}' is not a registered model of pipeline "
            f"'{pipeline_file.pipeline.name}' (its models: {known})",
            path=str(pipeline_file.folder),
        )
    uri = _tracking_uri(pipeline_file.folder, tracking_uri)
    latest = window_runs(uri, model, 1)
    if not latest or latest[0].report is None:
        return None
    return report_html(uri, latest[0])


def model_monitoring(uri: str, name: str, step: str, windows: int) -> dict[str, Any]:
    """One model's entry of :func:`monitoring`."""
    from jupyter_mlops.monitor.window_runs import monitoring_experiment, window_runs

    shown: dict[str, Any] = {
        "name": name,
        "step": step,
        "experiment": monitoring_experiment(name),
        "monitored": False,
        "hint": None,
        "problem": None,
        "latest": None,
        "trend": {"windows": 0, "metrics": {}},
    }
    try:
        runs = window_runs(uri, name, windows)
    except MlopsError as error:
        return {**shown, "problem": error.message}
    if not runs:
        return {**shown, "hint": start_hint(name)}
    return {
        **shown,
        "monitored": True,
        "latest": latest_window(runs[0]),
        "trend": performance_trend(runs),
    }


def start_hint(model: str) -> str:
    """How to start monitoring ``model``."""
    return (
        f"not monitored yet: start with `jupyter mlops monitor {model} --service-log DIR` "
        "(DIR: the prediction service's log folder)"
    )


def latest_window(run: WindowRun) -> dict[str, Any]:
    """The latest window as the panel shows it."""
    from jupyter_mlops.monitor.window_runs import DRIFT_METRIC, DRIFT_SHARE

    performance = run.performance()
    dataset = run.metrics.get(DRIFT_METRIC)
    return {
        "run_id": run.run_id,
        "start": run.start,
        "end": run.end,
        "rows": _whole(run.metrics.get("rows")),
        "versions": run.versions(),
        "drift": {
            "share": run.metrics.get(DRIFT_SHARE),
            "dataset_drifted": None if dataset is None else dataset >= 0.5,
            "columns": run.drift_columns(),
        },
        "prediction_drift": run.prediction_drift(),
        "performance": (
            {"metrics": performance, "estimated": run.estimated} if performance else None
        ),
        "report": run.report is not None,
    }


def performance_trend(runs: list[WindowRun]) -> dict[str, Any]:
    """``perf.*`` metrics of ``runs`` (newest first) as series, oldest first."""
    series: dict[str, list[dict[str, Any]]] = {}
    for run in reversed(runs):
        for metric, value in run.performance().items():
            point = {"start": run.start, "value": value, "estimated": run.estimated}
            series.setdefault(metric, []).append(point)
    return {"windows": len(runs), "metrics": dict(sorted(series.items()))}


def triggers_overview(
    pipeline_file: PipelineFile, now: datetime | None = None
) -> tuple[list[dict[str, Any]], str | None]:
    """(each trigger of the ``triggers:`` section with its state, why they could not be
    read): a malformed section or state file is a problem shown, not an error."""
    from jupyter_mlops.triggers.config import read_triggers
    from jupyter_mlops.triggers.state import read_states, state_path

    now = now or datetime.now(UTC)
    try:
        triggers = read_triggers(pipeline_file)
        states = read_states(pipeline_file.folder)
        shown = [
            trigger_state(trigger, states.of(name), now, pipeline_file.folder)
            for name, trigger in triggers.items()
        ]
    except MlopsError as error:
        return [], error.message
    except ValueError as error:  # a time in the state file that is no ISO time
        return [], f"{state_path(pipeline_file.folder)}: {error}: remove it to start afresh"
    return shown, None


def trigger_state(
    trigger: Trigger, state: TriggerState, now: datetime, folder: Path
) -> dict[str, Any]:
    """One trigger as the panel shows it."""
    fired = state.fired_at
    remaining = 0.0
    if fired is not None:
        fired = fired if fired.tzinfo else fired.replace(tzinfo=UTC)
        remaining = max(0.0, trigger.cooldown - (now - fired).total_seconds())
    last_run = state.last_run or {}
    return {
        "name": trigger.name,
        "kind": trigger.kind,
        "settings": settings_summary(trigger, folder),
        "cooldown_seconds": trigger.cooldown,
        "deploy": trigger.deploy,
        "last_evaluated": state.last_evaluated,
        "last_fired": state.last_fired,
        "reason": last_run.get("reason"),
        "last_run": {"run_id": last_run.get("run_id"), "status": last_run.get("status")}
        if last_run
        else None,
        "cooldown_remaining_seconds": round(remaining),
    }


def settings_summary(trigger: Trigger, folder: Path) -> str:
    """What ``trigger`` watches, in a few words: ``cron 0 3 * * *``, ``accuracy < 0.85 in
    2 windows of iris``, …"""
    model = f" of {trigger.model}" if trigger.model else ""
    windows = f"{trigger.windows} window{'s' if trigger.windows != 1 else ''}{model}"
    if trigger.kind == "schedule" and trigger.cron is not None:
        return f"cron {trigger.cron.text} (UTC)"
    if trigger.kind == "new_data":
        if trigger.path is None:
            return f"new data in {trigger.url}: {trigger.query}"
        try:
            return f"new data in {trigger.path.relative_to(folder.resolve()).as_posix()}"
        except ValueError:
            return f"new data in {trigger.path}"
    if trigger.kind == "decay":
        return f"{trigger.metric} < {trigger.below:g} in {windows}"
    return f"dataset drift in {windows}"


def _whole(value: float | None) -> int | None:
    return None if value is None else int(value)


def _tracking_uri(folder: Path, explicit: str | None) -> str:
    from jupyter_mlops.tracking.gitinfo import project_root
    from jupyter_mlops.tracking.store import resolve_tracking_uri

    return resolve_tracking_uri(explicit, project_root(folder))


def _model_names(pipeline: Any) -> dict[str, str]:
    from jupyter_mlops.pipeline.model_names import model_names

    return model_names(pipeline)
