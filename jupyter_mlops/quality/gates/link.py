"""After-run link ``gates``: decide on each newly registered model version and set its
aliases, or — without tracking — check the new model's metrics against the thresholds."""

from __future__ import annotations

from typing import TYPE_CHECKING

from jupyter_mlops.execute.status import StepStatus
from jupyter_mlops.quality.gates.config import GateConfig, read_gates
from jupyter_mlops.quality.gates.decision import decide

if TYPE_CHECKING:
    from jupyter_mlops.execute.after_run import AfterRun

UNTRACKED_NOTE = (
    "gates: checked the thresholds only; comparing with the champion needs the registry "
    "(run without --no-track)"
)


def gates_link(context: AfterRun) -> None:
    """Gate every version the ``register`` link registered: a version without gates on its
    metrics gets alias ``challenger`` at once; untracked, check the thresholds alone."""
    gates = read_gates(context.pipeline_file)
    if not context.track:
        if gates is not None:
            _thresholds_only(context, gates)
        return
    from jupyter_mlops.quality.gates.champion import gate_version
    from jupyter_mlops.registry.models import CHALLENGER, set_alias

    result = context.result
    for step in context.model_steps():
        version = context.registered.get(step.name)
        if version is None or context.uri is None:
            continue
        name = context.model_name(step.name)
        gated = gates.for_model(step.name) if gates else None
        if gated is None:  # no gates on this model: challenger on registration
            set_alias(context.uri, name, CHALLENGER, version, reason="register")
        else:
            outcome = gate_version(
                context.uri,
                context.pipeline_file,
                result,
                context.store,
                step.name,
                version,
                gated,
                registered_name=name,
            )
            outcome.model = name
            result.model_gates[name] = outcome
        # decided: the next run does not register it again
        step.model_version, step.model_name = version, name
        context.remember(step)


def _thresholds_only(context: AfterRun, gates: GateConfig) -> None:
    """Untracked: the absolute thresholds on this run's metrics; nothing is recorded."""
    result = context.result
    for step in context.model_steps():
        gated = gates.for_model(step.name)
        if gated is None or step.status != StepStatus.RAN:
            continue
        new = {
            name: dict(result.steps[name].metrics)
            for name in gated.metrics_steps()
            if StepStatus(result.steps[name].status).done
        }
        name = context.model_name(step.name)
        result.model_gates[name] = outcome = decide(gated, "", new, champion=None)
        outcome.model = name
        if UNTRACKED_NOTE not in result.notes:
            result.notes.append(UNTRACKED_NOTE)
