"""What a tracked run owes MLflow, kept in its run state (``run_state.py``) from the moment
its steps end until the after-run chain has done it.

A step result that ran (or was cached) but was never recorded owes a ``record``; the model of
a ``--model`` step never registered under its name owes a ``register``. Items taken over from
earlier runs stay owed until a run holds the same step result (same cache key) and does them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from jupyter_mlops.execute.run_state import ENDED, RECORD, REGISTER, OwedItem, RunState
from jupyter_mlops.execute.status import StepStatus

if TYPE_CHECKING:
    from jupyter_mlops.execute.after_run import AfterRun


def owed_now(context: AfterRun) -> list[OwedItem]:
    """The records and registrations of this run's step results not done yet (none
    untracked): a step result without an MLflow step run, a model without a version."""
    from jupyter_mlops.tracking.recording import registered_as

    if not context.track:
        return []
    pipeline = context.pipeline_file.pipeline
    items = []
    for step in context.result.steps.values():
        if not StepStatus(step.status).done:
            continue
        outputs = {var: ref.hash for var, ref in step.outputs.items()}
        if step.run_id is None:
            items.append(OwedItem(step.name, step.cache_key, RECORD, None, outputs))
        if not pipeline.step(step.name).model or step.name in context.registered:
            continue
        name = context.model_name(step.name)
        if not registered_as(step, name, pipeline.name):
            items.append(OwedItem(step.name, step.cache_key, REGISTER, name, outputs))
    return items


def still_owed(context: AfterRun) -> list[OwedItem]:
    """This run's owed items plus those of earlier runs that no step result of this run
    matches (same step and cache key)."""
    held = {
        (step.name, step.cache_key)
        for step in context.result.steps.values()
        if StepStatus(step.status).done
    }
    carried = [item for item in context.carried if (item.step, item.cache_key) not in held]
    return unique([*owed_now(context), *carried])


def unique(items: list[OwedItem]) -> list[OwedItem]:
    """``items`` without repeats, in order."""
    seen: set[tuple[str, str, str]] = set()
    kept = []
    for item in items:
        if (item.step, item.cache_key, item.action) not in seen:
            seen.add((item.step, item.cache_key, item.action))
            kept.append(item)
    return kept


def begin_after_run(context: AfterRun) -> None:
    """Take over the owed items of earlier runs and write what this run owes, before any
    after-run link runs (a kill from now on leaves them owed)."""
    state = context.run_state
    if state is None or not context.track:
        return
    context.carried = unique([item for other in state.others() for item in other.owed])
    state.owed = still_owed(context)
    state.save()


def after_link(context: AfterRun) -> None:
    """Write what is still owed once a link has run, when that changed."""
    state = context.run_state
    if state is None or not context.track:
        return
    owed = still_owed(context)
    if owed != state.owed:
        state.owed = owed
        state.save()


def end_after_run(context: AfterRun) -> None:
    """Write what is still owed and whether the parent run closed; remove the state file
    when nothing is owed and the record is closed. Owed items of earlier runs that this run
    could not do become warnings."""
    state = context.run_state
    if state is None:
        return
    state.status = ENDED
    recorder = context.recorder
    state.parent_closed = recorder is None or recorder.closed
    state.owed = still_owed(context)
    for item in state.owed:
        if item in context.carried and item.action == REGISTER:
            context.result.warnings.append(
                f"the model of step '{item.step}' from an earlier run (cache key "
                f"{item.cache_key[:12]}) is not registered yet; a run with the same code, "
                f"parameters and inputs registers it ({state.path.parent})"
            )
    if state.owed or not state.parent_closed:
        state.save()
    else:
        state.remove()


def earlier_runs(context: AfterRun) -> list[RunState]:
    """Earlier runs of this folder whose state remains and whose process is gone (this run
    holds the folder's run lock; the pid and host recorded are checked too)."""
    state = context.run_state
    return [] if state is None else [s for s in state.others() if not s.process_alive()]
