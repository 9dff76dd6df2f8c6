"""Whether each trigger fires now, and why — with the measured figures.

Rules, per kind:

* ``schedule``: fires when a time of its cron expression passed since the trigger was last
  evaluated. The first evaluation (no state yet) starts the clock and fires nothing; a cron
  time that falls in the cool-down is skipped.
* ``new_data``: fires when the fingerprint (``fingerprint.py``) differs from the one of the
  last run it started. The first evaluation records the fingerprint as the baseline and
  fires nothing; a missing file or folder fires nothing. After a failed re-run the old
  fingerprint stays, so the trigger fires again once the cool-down is over.
* ``drift``: fires when each of the latest N windows of ``<model>-monitoring`` has
  ``drift.dataset`` 1, and the newest of them came after the one it last fired on.
* ``decay``: the same with ``perf.<metric>`` below the threshold in each of the N windows
  (a window without the metric breaks the run of windows).

A trigger whose condition holds within ``cooldown`` of its last fire is *cooling down*.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from jupyter_mlops.monitor.window_runs import (
    DRIFT_METRIC,
    DRIFT_SHARE,
    PERF_PREFIX,
    monitoring_experiment,
    window_runs,
)
from jupyter_mlops.monitor.window_runs import WindowRun as Window
from jupyter_mlops.triggers.config import Trigger
from jupyter_mlops.triggers.fingerprint import Fingerprint, fingerprint
from jupyter_mlops.triggers.state import TriggerState

FIRES = "fires"
NOT_DUE = "not due"
COOLING = "cooling down"
BASELINE = "baseline"
DEFERRED = "deferred"  # due, but another trigger fired first in this evaluation


@dataclass
class Evaluation:
    """One trigger's verdict: ``status`` (fires, not due, cooling down, baseline, deferred)
    and ``reason``, the sentence saying why with the measured figures."""

    trigger: Trigger
    status: str
    reason: str
    fingerprint: Fingerprint | None = None

    @property
    def fires(self) -> bool:
        return self.status == FIRES

    def to_json(self) -> dict[str, Any]:
        return {
            "trigger": self.trigger.name,
            "kind": self.trigger.kind,
            "status": self.status,
            "reason": self.reason,
            "fingerprint": self.fingerprint.digest if self.fingerprint else None,
        }


@dataclass(frozen=True)
class Context:
    """What evaluating needs besides the trigger and its state."""

    now: datetime
    tracking_uri: Callable[[], str]  # resolved only when a drift/decay trigger reads MLflow
    default_model: Callable[[str], str]  # trigger name -> the pipeline's one model


def evaluate(trigger: Trigger, state: TriggerState, context: Context) -> Evaluation:
    """The verdict on ``trigger`` now, cool-down applied."""
    check = CHECKS[trigger.kind]
    evaluation = check(trigger, state, context)
    if evaluation.status != FIRES or state.fired_at is None:
        return evaluation
    until = state.fired_at + timedelta(seconds=trigger.cooldown)
    if context.now < until:
        evaluation.status = COOLING
        evaluation.reason += (
            f"; cooling down until {_iso(until)} (fired at {state.last_fired}, "
            f"cooldown {_span(trigger.cooldown)})"
        )
    return evaluation


def check_schedule(trigger: Trigger, state: TriggerState, context: Context) -> Evaluation:
    assert trigger.cron is not None
    cron = trigger.cron
    if state.evaluated_at is None:
        upcoming = _iso(cron.next_after(context.now))
        reason = f"first evaluation: the clock starts now (next cron time {upcoming})"
        return Evaluation(trigger, BASELINE, reason)
    passed = cron.passed_between(state.evaluated_at, context.now)
    if passed is None:
        upcoming = _iso(cron.next_after(context.now))
        reason = (
            f"no time of cron '{cron.text}' since the last evaluation at "
            f"{state.last_evaluated} (next {upcoming})"
        )
        return Evaluation(trigger, NOT_DUE, reason)
    reason = (
        f"cron '{cron.text}' time {_iso(passed)} passed since the last evaluation at "
        f"{state.last_evaluated}"
    )
    return Evaluation(trigger, FIRES, reason)


def check_new_data(trigger: Trigger, state: TriggerState, context: Context) -> Evaluation:
    found = fingerprint(trigger)
    if found is None:
        return Evaluation(trigger, NOT_DUE, f"{trigger.watched} does not exist: nothing to watch")
    if state.fingerprint is None:
        reason = f"first evaluation: {trigger.watched} is the baseline ({found.summary})"
        return Evaluation(trigger, BASELINE, reason, found)
    if found.digest == state.fingerprint:
        reason = f"{trigger.watched} unchanged since the last run it started ({found.summary})"
        return Evaluation(trigger, NOT_DUE, reason, found)
    reason = f"{trigger.watched} changed: now {found.summary}; was {state.summary}"
    return Evaluation(trigger, FIRES, reason, found)


def check_drift(trigger: Trigger, state: TriggerState, context: Context) -> Evaluation:
    def drifted(window: Window) -> bool:
        return window.metrics.get(DRIFT_METRIC) == 1.0

    def figure(window: Window) -> str:
        share = window.metrics.get(DRIFT_SHARE)
        return f"{window.start} share {share:.2f}" if share is not None else window.start

    return _windows_rule(trigger, state, context, drifted, figure, "dataset drift")


def check_decay(trigger: Trigger, state: TriggerState, context: Context) -> Evaluation:
    key = f"{PERF_PREFIX}{trigger.metric}"
    assert trigger.below is not None
    below = trigger.below

    def decayed(window: Window) -> bool:
        value = window.metrics.get(key)
        return value is not None and value < below

    def figure(window: Window) -> str:
        value = window.metrics.get(key)
        return (
            f"{window.start} {key} {value:.4g}" if value is not None else f"{window.start} no {key}"
        )

    return _windows_rule(trigger, state, context, decayed, figure, f"{key} below {below:g}")


def _windows_rule(
    trigger: Trigger,
    state: TriggerState,
    context: Context,
    holds: Callable[[Window], bool],
    figure: Callable[[Window], str],
    what: str,
) -> Evaluation:
    """Fires when ``holds`` for each of the latest ``trigger.windows`` windows, the newest
    of them after the one the trigger last fired on."""
    model = trigger.model or context.default_model(trigger.name)
    experiment = monitoring_experiment(model)
    windows = window_runs(context.tracking_uri(), model, trigger.windows) or []
    needed = trigger.windows
    if len(windows) < needed:
        reason = f"{len(windows)} of the {needed} windows needed in {experiment}"
        return Evaluation(trigger, NOT_DUE, reason)
    newest = Fingerprint(windows[0].start, f"window {windows[0].start}")
    figures = "; ".join(figure(w) for w in reversed(windows))
    if not all(holds(w) for w in windows):
        reason = f"not {what} in each of the latest {needed} windows of {experiment} ({figures})"
        return Evaluation(trigger, NOT_DUE, reason, newest)
    if state.fingerprint is not None and windows[0].start <= state.fingerprint:
        reason = (
            f"{what} in the latest {needed} windows of {experiment}, but it fired on these "
            f"already (newest window {windows[0].start})"
        )
        return Evaluation(trigger, NOT_DUE, reason, newest)
    reason = f"{what} in each of the latest {needed} windows of {experiment} ({figures})"
    return Evaluation(trigger, FIRES, reason, newest)


CHECKS: dict[str, Callable[[Trigger, TriggerState, Context], Evaluation]] = {
    "schedule": check_schedule,
    "new_data": check_new_data,
    "drift": check_drift,
    "decay": check_decay,
}


def remember_evaluation(state: TriggerState, evaluation: Evaluation, now: datetime) -> None:
    """What an evaluation that started no run leaves in the state: the time (a deferred
    trigger keeps its old one, so it is still due next time) and a new_data baseline."""
    if evaluation.status == DEFERRED:
        return
    state.last_evaluated = _iso(now)
    if evaluation.status == BASELINE and evaluation.fingerprint is not None:
        state.fingerprint = evaluation.fingerprint.digest
        state.summary = evaluation.fingerprint.summary


def remember_fire(
    state: TriggerState, evaluation: Evaluation, now: datetime, run: dict[str, Any], ok: bool
) -> None:
    """What a fire leaves in the state: its time, the run, and — when the run succeeded —
    the fingerprint it started on (after a failure the trigger fires again once cooled)."""
    state.last_evaluated = state.last_fired = _iso(now)
    state.last_run = {**run, "reason": evaluation.reason}
    if evaluation.fingerprint is not None and ok:
        state.fingerprint = evaluation.fingerprint.digest
        state.summary = evaluation.fingerprint.summary


def _iso(when: datetime) -> str:
    return when.isoformat(timespec="seconds")


def _span(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
