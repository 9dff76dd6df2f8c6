"""The ``trigger`` use case: evaluate a pipeline's triggers and, when one fires, re-run it.

The re-run is ``api.run`` with the trigger's params and every step re-run (the data behind
an unchanged path or query may be new), tagged ``mlops.trigger``/``mlops.trigger.kind``/
``mlops.trigger.reason`` on its MLflow parent run. Its gates decide on the new version;
a validated version is deployed through the trigger's ``deploy:`` target (and, as after
every run, through the targets with ``auto: true``). A rejected version leaves every alias
where it was. One re-run per evaluation: when several triggers are due, the first in the
file fires and the others stay due for the next evaluation. ``dry_run`` evaluates and says
what would happen, writing nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jupyter_mlops.errors import MlopsError, TriggerConfigError
from jupyter_mlops.triggers.evaluate import DEFERRED, Evaluation

if TYPE_CHECKING:
    from jupyter_mlops.execute.progress import StepProgress
    from jupyter_mlops.execute.run_result import RunResult
    from jupyter_mlops.pipeline.pipeline_file import PipelineFile
    from jupyter_mlops.triggers.config import Trigger

ProgressFor = Callable[[list[str]], AbstractContextManager["StepProgress | None"]]


@dataclass
class TriggerOptions:
    """How to evaluate and re-run: ``progress_for`` gets the step names when a run starts."""

    dry_run: bool = False
    tracking_uri: str | None = None
    engine: str = "papermill"
    workers: int = 0
    now: datetime | None = None  # default: the current time (UTC)
    progress_for: ProgressFor | None = None


@dataclass
class TriggerResult:
    """What an evaluation found and, when a trigger fired, what its re-run did."""

    pipeline: str
    folder: Path
    dry_run: bool
    evaluations: list[Evaluation]
    fired: Evaluation | None = None
    params: dict[str, Any] = field(default_factory=dict)
    plan: list[str] = field(default_factory=list)  # what the fire does (dry run: would do)
    run: RunResult | None = None
    deploys: list[str] = field(default_factory=list)  # one line per deploy (or why none)
    deploy_failed: bool = False

    @property
    def rejected(self) -> list[str]:
        """The models whose new version the gates rejected."""
        return self.run.gates_rejected if self.run is not None else []

    @property
    def run_failed(self) -> bool:
        return self.run is not None and self.run.status != "succeeded"

    def exit_code(self, fail_on_rejected: bool = False) -> int:
        """0: nothing fired, or the re-run succeeded (a rejection too, unless
        ``fail_on_rejected``); 1: the re-run or its deploy failed."""
        if self.run_failed or self.deploy_failed:
            return 1
        return 1 if fail_on_rejected and self.rejected else 0

    def to_json(self) -> dict[str, Any]:
        return {
            "pipeline": self.pipeline,
            "dry_run": self.dry_run,
            "triggers": [evaluation.to_json() for evaluation in self.evaluations],
            "fired": self.fired.trigger.name if self.fired else None,
            "params": self.params,
            "plan": self.plan,
            "run": self.run.to_json() if self.run is not None else None,
            "rejected": self.rejected,
            "deploys": self.deploys,
            "deploy_failed": self.deploy_failed,
        }


def trigger(pipeline: str | Path, options: TriggerOptions | None = None) -> TriggerResult:
    """Evaluate the triggers of ``pipeline`` (an extracted folder or its notebook); when
    one fires (and not ``dry_run``), re-run, gate and deploy; the state file records it."""
    from jupyter_mlops.api import plan_run, resolve_target
    from jupyter_mlops.pipeline.pipeline_file import read_pipeline_file
    from jupyter_mlops.triggers.evaluate import remember_evaluation
    from jupyter_mlops.triggers.state import read_states

    options = options or TriggerOptions()
    folder = resolve_target(pipeline).folder
    pipeline_file = read_pipeline_file(folder)
    triggers = _configured_triggers(pipeline_file)
    now = options.now or datetime.now(UTC)
    states = read_states(pipeline_file.folder)
    evaluations = _evaluate_all(triggers, states, pipeline_file, options.tracking_uri, now)
    fired = next((e for e in evaluations if e.fires), None)
    result = TriggerResult(
        pipeline_file.pipeline.name, pipeline_file.folder, options.dry_run, evaluations, fired
    )
    if fired is not None:
        fingerprint = fired.fingerprint.digest if fired.fingerprint else None
        result.params = fired.trigger.filled_params(fingerprint)
        plan_run(pipeline_file.folder, result.params)  # bad params: refused before any change
        result.plan = _plan(pipeline_file, fired.trigger, result.params)
    if options.dry_run:
        return result
    for evaluation in evaluations:
        if not evaluation.fires:
            remember_evaluation(states.of(evaluation.trigger.name), evaluation, now)
    states.save()
    if fired is not None:
        _fire(result, fired, options, states, now)
    return result


def _configured_triggers(pipeline_file: PipelineFile) -> list[Trigger]:
    from jupyter_mlops.deploy.targets import read_targets
    from jupyter_mlops.triggers.config import read_triggers

    triggers = read_triggers(pipeline_file)
    if not triggers:
        raise TriggerConfigError(
            "has no triggers: section (see `jupyter mlops trigger --help`)",
            path=str(pipeline_file.path),
        )
    targets = read_targets(pipeline_file)
    for item in triggers.values():
        if item.deploy is not None and item.deploy not in targets:
            where = f"triggers.{item.name}.deploy"
            known = ", ".join(targets) or "none"
            raise TriggerConfigError(
                f"{where} names no target of the deploy: section (targets: {known})",
                name=where,
                path=str(pipeline_file.path),
            )
    return list(triggers.values())


def _evaluate_all(
    triggers: list[Trigger],
    states: Any,
    pipeline_file: PipelineFile,
    tracking_uri: str | None,
    now: datetime,
) -> list[Evaluation]:
    from jupyter_mlops.tracking.gitinfo import project_root
    from jupyter_mlops.tracking.store import resolve_tracking_uri
    from jupyter_mlops.triggers.evaluate import Context, evaluate

    @functools.cache
    def uri() -> str:
        return resolve_tracking_uri(tracking_uri, project_root(pipeline_file.folder))

    def default_model(name: str) -> str:
        from jupyter_mlops.pipeline.model_names import model_names

        names = list(model_names(pipeline_file.pipeline).values())
        if len(names) == 1:
            return names[0]
        where = f"triggers.{name}.model"
        raise TriggerConfigError(
            f"{where} is needed: the pipeline registers {len(names)} models "
            f"({', '.join(names) or 'none'})",
            name=where,
            path=str(pipeline_file.path),
        )

    context = Context(now, uri, default_model)
    evaluations = [evaluate(item, states.of(item.name), context) for item in triggers]
    first = next((e for e in evaluations if e.fires), None)
    for evaluation in evaluations:
        if evaluation.fires and evaluation is not first:
            assert first is not None
            evaluation.status = DEFERRED
            evaluation.reason += (
                f"; waits for the next evaluation (one re-run at a time: "
                f"'{first.trigger.name}' fired)"
            )
    return evaluations


def _plan(pipeline_file: PipelineFile, item: Trigger, params: dict[str, Any]) -> list[str]:
    """What firing ``item`` does, in words."""
    from jupyter_mlops.deploy.targets import read_targets

    shown = ", ".join(f"{k}={v!r}" for k, v in params.items())
    given = f"with params {shown}" if shown else "with its default params"
    lines = [
        f"re-run pipeline '{pipeline_file.pipeline.name}' (every step) {given}",
        "gate the new version (a rejected version moves no alias)",
    ]
    targets = read_targets(pipeline_file)
    names = [item.deploy] if item.deploy else []
    names += [name for name, target in targets.items() if target.auto and name not in names]
    for name in names:
        target = targets[name]
        lines.append(
            f"deploy a validated version to target '{name}' ({target.kind}, alias '{target.alias}')"
        )
    if not names:
        lines.append("give a validated version alias 'challenger' (no deploy target)")
    return lines


def _fire(
    result: TriggerResult, fired: Evaluation, options: TriggerOptions, states: Any, now: datetime
) -> None:
    """Re-run with the trigger's params, deploy, and record the fire in the state file."""
    from jupyter_mlops.api import load_pipeline, run
    from jupyter_mlops.execute.runner import RunOptions
    from jupyter_mlops.tracking.tags import TRIGGER, TRIGGER_KIND, TRIGGER_REASON
    from jupyter_mlops.triggers.evaluate import remember_fire

    item = fired.trigger
    tags = {TRIGGER: item.name, TRIGGER_KIND: item.kind, TRIGGER_REASON: fired.reason[:4900]}
    run_options = RunOptions(
        params=result.params,
        force=True,
        workers=options.workers,
        engine=options.engine,
        tracking_uri=options.tracking_uri,
        run_tags=tags,
        source="trigger",
    )
    names = [step.name for step in load_pipeline(result.folder).steps]
    progress = options.progress_for(names) if options.progress_for else nullcontext(None)
    state = states.of(item.name)
    try:
        with progress as shown:
            run_options.progress = shown
            result.run = run(result.folder, run_options)
        if result.run.status == "succeeded" and item.deploy is not None:
            _deploy(result, item, options.tracking_uri)
    except MlopsError as error:
        remember_fire(state, fired, now, {"status": "failed", "error": str(error)}, ok=False)
        states.save()
        raise
    ok = result.run.status == "succeeded" and not result.deploy_failed
    remember_fire(state, fired, now, _run_record(result), ok=ok)
    states.save()


def _deploy(result: TriggerResult, item: Trigger, tracking_uri: str | None) -> None:
    """Deploy each validated new version to the trigger's target (an ``auto`` target got it
    from the run's own deploy link already); say why not for a rejected one."""
    from jupyter_mlops.deploy.kinds import deploy_to
    from jupyter_mlops.deploy.targets import read_target
    from jupyter_mlops.pipeline.pipeline_file import read_pipeline_file
    from jupyter_mlops.registry.models import get_alias_version
    from jupyter_mlops.tracking.gitinfo import project_root
    from jupyter_mlops.tracking.store import resolve_tracking_uri

    assert result.run is not None and item.deploy is not None
    target = read_target(read_pipeline_file(result.folder), item.deploy)
    uri = resolve_tracking_uri(tracking_uri, project_root(result.folder))
    for model, version in result.run.model_versions.items():
        if target.model not in (None, model):
            continue
        gate = result.run.model_gates.get(model)
        if gate is not None and not gate.validated:
            served = get_alias_version(uri, model, target.alias)
            result.deploys.append(
                f"deploy {target.name}: not deployed, the gates rejected version {version} of "
                f"'{model}'; alias '{target.alias}' stays on "
                f"{'version ' + str(served) if served else 'no version'}"
            )
            continue
        if target.auto:
            prefix = f"deploy {target.name}:"
            done = [note for note in result.run.notes if note.startswith(prefix)]
            result.deploys.extend(done or [f"{prefix} done by the run (auto: true)"])
            continue
        rollout = deploy_to(uri, model, target, version)
        result.deploys.append(f"deploy {target.name}: {rollout.describe()}")
        result.deploy_failed = result.deploy_failed or not rollout.promoted


def _run_record(result: TriggerResult) -> dict[str, Any]:
    assert result.run is not None
    return {
        "run_id": result.run.run_id,
        "status": str(result.run.status),
        "model_versions": dict(result.run.model_versions),
        "gates": {name: gate.outcome for name, gate in result.run.model_gates.items()},
        "deploys": list(result.deploys),
    }
