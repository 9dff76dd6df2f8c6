"""Gate a newly registered model version against the current champion, and record it.

Called by the after-run link ``gates`` (``link.py``) right after a version is registered (without an alias): the
champion (alias ``champion`` of the same registered model) is re-scored on this run's
evaluation data (``rescoring.py``), ``gates.decide`` compares, and then

* the version and the pipeline's parent run get tags ``mlops.gate`` = validated|rejected
  and ``mlops.gate.reasons`` (``; ``-joined), the version also ``mlops.gate.champion``;
* the parent run gets the champion's re-scored metrics as ``champion.<key>``;
* only a validated version gets alias ``challenger`` (and ``gates.promote``'s alias).
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from jupyter_mlops.artifacts.store import ArtifactStore
from jupyter_mlops.execute.run_result import RunResult
from jupyter_mlops.execute.status import StepStatus
from jupyter_mlops.pipeline.pipeline_file import PipelineFile
from jupyter_mlops.quality.gates.config import GateConfig
from jupyter_mlops.quality.gates.decision import GateOutcome, decide
from jupyter_mlops.quality.gates.rescoring import (
    MODEL,
    RUN,
    ScoringJob,
    ScoringStep,
    score_in_worker,
)
from jupyter_mlops.registry.models import CHALLENGER, CHAMPION, get_alias_version, set_alias
from jupyter_mlops.tracking.store import MAX_TAG_VALUE, log_batch, make_client, mlflow_errors
from jupyter_mlops.tracking.tags import GATE as GATE_TAG
from jupyter_mlops.tracking.tags import GATE_CHAMPION as CHAMPION_TAG
from jupyter_mlops.tracking.tags import GATE_REASONS as REASONS_TAG
from jupyter_mlops.tracking.tags import MODEL_SEAL


def gate_version(
    tracking_uri: str,
    pipeline_file: PipelineFile,
    result: RunResult,
    store: ArtifactStore,
    model_step: str,
    version: str,
    config: GateConfig,
    registered_name: str | None = None,
) -> GateOutcome:
    """Decide on ``version`` (trained by ``model_step``), record the outcome, set aliases."""
    name = registered_name or pipeline_file.pipeline.name
    new = {
        step: dict(result.steps[step].metrics)
        for step in config.metrics_steps()
        if result.steps[step].status in (StepStatus.RAN, StepStatus.CACHED)
    }
    champion_version = get_alias_version(tracking_uri, name, CHAMPION)
    champion = None
    errors: list[str] = []
    if champion_version is not None and len(new) == len(config.metrics_steps()):
        with mlflow_errors(tracking_uri, f"find version {champion_version} of model '{name}'"):
            client = make_client(tracking_uri)
            uri = client.get_model_version_download_uri(name, champion_version)
            seal = client.get_model_version(name, champion_version).tags.get(MODEL_SEAL)
        job = scoring_job(pipeline_file, result, store, model_step, config, uri, tracking_uri)
        job = replace(job, champion_seal=seal)
        scores = score_in_worker(job)
        errors = scores.errors
        champion = {
            "version": champion_version,
            "metrics": scores.champion,
            "slices": scores.slices,
        }
    outcome = decide(config, version, new, champion, errors)
    record_outcome(tracking_uri, name, result.run_id, outcome)
    if outcome.validated:
        outcome.aliases = [CHALLENGER, *([config.promote] if config.promote else [])]
        for alias in outcome.aliases:
            set_alias(tracking_uri, name, alias, version, reason="gate", gate=outcome.outcome)
    return outcome


def scoring_job(
    pipeline_file: PipelineFile,
    result: RunResult,
    store: ArtifactStore,
    model_step: str,
    config: GateConfig,
    champion_uri: str | None,
    tracking_uri: str,
) -> ScoringJob:
    """The chain from ``model_step`` to the gated ``--metrics`` steps, with this run's inputs."""
    pipeline = pipeline_file.pipeline
    model_var = pipeline.step(model_step).model
    names = chain(pipeline_file, model_step, config.metrics_steps())
    steps = []
    for name in names:
        step, step_result = pipeline.step(name), result.steps[name]
        sources: dict[str, str] = {}
        run_inputs: dict[str, str] = {}
        for var, producer in step.inputs.items():
            if producer == model_step and var == model_var:
                sources[var] = MODEL
            elif producer in names:
                sources[var] = producer
            else:
                sources[var] = RUN
                run_inputs[var] = str(store.path_of(step_result.inputs[var].hash))
        gated = name in config.metrics_steps()
        steps.append(
            ScoringStep(
                name=name,
                module=pipeline_file.modules[name],
                params=dict(step_result.params),
                sources=sources,
                run_inputs=run_inputs,
                outputs=list(step.outputs),
                metrics=step.metrics if gated else None,
            )
        )
    stamp = time.strftime("%Y%m%d-%H%M%S")
    model_ref = result.steps[model_step].outputs[str(model_var)]
    return ScoringJob(
        pipeline_dir=str(pipeline_file.folder.resolve()),
        store_root=str(Path(store.root).resolve()),
        tracking_uri=tracking_uri,
        steps=steps,
        new_model_path=str(store.path_of(model_ref.hash)),
        champion_uri=champion_uri,
        slice_column=config.slices.column if config.slices else None,
        log_path=str(Path(store.root).resolve() / "runs" / f"gates-{stamp}.log"),
    )


def chain(pipeline_file: PipelineFile, model_step: str, targets: list[str]) -> list[str]:
    """Steps downstream of ``model_step`` that lead to (or are) a target, in run order."""
    steps = pipeline_file.pipeline.steps
    below = {model_step}
    for step in steps:
        if any(parent in below for parent in step.upstream()):
            below.add(step.name)
    needed = set(targets)
    for step in reversed(steps):
        if step.name in needed:
            needed.update(step.upstream())
    return [s.name for s in steps if s.name in below and s.name in needed and s.name != model_step]


def record_outcome(tracking_uri: str, name: str, run_id: str | None, outcome: GateOutcome) -> None:
    """Tags on the model version and the parent run; champion metrics on the parent run."""
    reasons = "; ".join(outcome.reasons)[:MAX_TAG_VALUE]
    tags = {GATE_TAG: outcome.outcome, REASONS_TAG: reasons}
    with mlflow_errors(tracking_uri, f"record the gate outcome of model '{name}'"):
        client = make_client(tracking_uri)
        for key, value in tags.items():
            client.set_model_version_tag(name, outcome.version, key, value)
        if outcome.champion:
            client.set_model_version_tag(
                name, outcome.version, CHAMPION_TAG, str(outcome.champion["version"])
            )
        if run_id is not None:
            champion_metrics = (outcome.champion or {}).get("metrics", {})
            metrics = {f"champion.{key}": value for key, value in champion_metrics.items()}
            log_batch(client, run_id, tags=tags, metrics=metrics)
