"""A rollout's MLflow record: one run in experiment ``<model>-deployments``, named by the
rollout id. Params: strategy, target, alias, url, stable and candidate versions, the
phases and thresholds. Metrics: each check's value per window, ``step`` = the phase index
(0 = the load check before any traffic), plus each version's requests, error rate, p99
and, as a shadow, the share of its answers that differed from the served ones; another
kind's verification checks (``RolloutResult.checks``) at step 0. Tags: ``mlops.rollout.outcome`` (promoted | rolled_back) and ``mlops.rollout.reason``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from jupyter_mlops.deploy.rollout.analysis import Check, WindowAnalysis
from jupyter_mlops.deploy.rollout.result import RolloutResult

ROLLOUT_ID = "mlops.rollout.id"
OUTCOME = "mlops.rollout.outcome"
REASON = "mlops.rollout.reason"
EXPERIMENT_SUFFIX = "-deployments"


def experiment_name(model: str) -> str:
    """The experiment holding the rollouts of registered model ``model``."""
    return f"{model}{EXPERIMENT_SUFFIX}"


def record_rollout(
    tracking_uri: str,
    result: RolloutResult,
    thresholds: Mapping[str, Any],
    status: str = "FINISHED",
) -> str:
    """Log ``result`` as a run of ``<model>-deployments`` with the target's ``thresholds``
    (a rest target's analysis, another kind's verification settings); returns the run id."""
    from mlflow.entities import Metric

    from jupyter_mlops.tracking.store import (
        get_or_create_experiment,
        log_batch,
        make_client,
        mlflow_errors,
    )

    with mlflow_errors(tracking_uri, f"record rollout {result.rollout}"):
        client = make_client(tracking_uri)
        experiment = get_or_create_experiment(client, experiment_name(result.model))
        run = client.create_run(experiment, run_name=result.rollout, tags=_tags(result))
        run_id = run.info.run_id
        log_batch(client, run_id, params=_params(result, thresholds))
        metrics = [Metric(key, value, ts, step) for key, value, step, ts in _metrics(result)]
        for start in range(0, len(metrics), 1000):
            client.log_batch(run_id, metrics=metrics[start : start + 1000])
        client.set_terminated(run_id, status)
    return str(run_id)


def _tags(result: RolloutResult) -> dict[str, str]:
    return {
        ROLLOUT_ID: result.rollout,
        OUTCOME: result.outcome,
        REASON: result.reason[:5000],
        "mlops.model": result.model,
    }


def _params(result: RolloutResult, thresholds: Mapping[str, Any]) -> dict[str, Any]:
    phases = "; ".join(f"{w.phase.label} {w.phase.seconds:g}s" for w in _first_windows(result))
    return {
        "strategy": result.strategy,
        "target": result.target,
        "alias": result.alias,
        "url": result.url,
        "stable": result.stable or "",
        "candidate": result.candidate,
        "phases": phases or "-",
        **{f"analysis.{k}": v for k, v in thresholds.items() if v is not None},
    }


def _first_windows(result: RolloutResult) -> list[Any]:
    seen: set[int] = set()
    firsts = []
    for window in result.windows:
        if window.index not in seen:
            seen.add(window.index)
            firsts.append(window)
    return firsts


def _metrics(result: RolloutResult) -> list[tuple[str, float, int, int]]:
    """(key, value, step, timestamp ms) of every measured check and version summary."""
    import time

    now = int(time.time() * 1000)
    rows: list[tuple[str, float, int, int]] = []
    rows += _measured(result.checks, "", 0, now)
    if result.load is not None:
        rows += _check_metrics(result.load, "load.", 0, now)
    for window in result.windows:
        rows += _check_metrics(window.analysis, "", window.index, now)
        for summary in window.versions:
            role = "candidate" if summary["version"] == result.candidate else "stable"
            keys = ["requests", "error_rate", "p99_ms"]
            if summary.get("shadow_requests"):
                keys.append("shadow_mismatch_rate")
            for key in keys:
                if summary.get(key) is not None:
                    rows.append((f"{role}.{key}", float(summary[key]), window.index, now))
    return rows


def _check_metrics(
    analysis: WindowAnalysis, prefix: str, step: int, now: int
) -> list[tuple[str, float, int, int]]:
    return _measured(analysis.checks, prefix, step, now)


def _measured(
    checks: Sequence[Check], prefix: str, step: int, now: int
) -> list[tuple[str, float, int, int]]:
    return [
        (f"{prefix}{check.name}", float(check.value), step, now)
        for check in checks
        if check.value is not None
    ]


def latest_rollout(client: Any, model: str, target: str) -> dict[str, Any] | None:
    """The last recorded rollout of ``model`` to deploy target ``target`` (any kind):
    ``{"rollout", "outcome", "reason", "time", "metrics": {check: value}}``, None when
    there is none."""
    experiment = client.get_experiment_by_name(experiment_name(model))
    if experiment is None:
        return None
    runs = client.search_runs(
        [experiment.experiment_id],
        filter_string=f"params.target = '{target}'",
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    if not runs:
        return None
    run = runs[0]
    return {
        "rollout": run.data.tags.get(ROLLOUT_ID),
        "outcome": run.data.tags.get(OUTCOME),
        "reason": run.data.tags.get(REASON) or "",
        "time": _iso_millis(run.info.start_time),
        "metrics": dict(sorted(run.data.metrics.items())),
    }


def _iso_millis(millis: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(millis / 1000, UTC).isoformat(timespec="seconds")
