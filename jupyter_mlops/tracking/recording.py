"""The after-run links that write to MLflow: ``record`` (the run) and ``register`` (models).

An all-cached run whose steps were all recorded before creates no MLflow run. Cached steps
are recorded too, tagged with the run that produced them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from jupyter_mlops.artifacts.store import ArtifactStore
from jupyter_mlops.execute.run_result import RunResult, StepResult
from jupyter_mlops.execute.status import StepStatus
from jupyter_mlops.pipeline.pipeline_file import PipelineFile
from jupyter_mlops.tracking.gitinfo import git_commit, project_root
from jupyter_mlops.tracking.store import RunRecorder, make_client, resolve_tracking_uri

if TYPE_CHECKING:
    from jupyter_mlops.execute.after_run import AfterRun


def record_link(context: AfterRun) -> None:
    """After-run link ``record``: the parent run and a nested run per step, when a step ran
    or failed, or a cached step was never recorded (its recording failed before, or the run
    that produced it was not tracked). Otherwise the run that produced the artifacts is the
    run id. Step run ids go into the cache entries of the steps they produced."""
    result = context.result
    if not context.track:
        return
    if not any(needs_record(step) for step in result.steps.values()):
        parents = [s.parent_run_id for s in result.steps.values() if s.parent_run_id]
        result.run_id = parents[-1] if parents else None
        return
    pipeline_file = context.pipeline_file
    context.uri = uri = open_tracking_store(context.tracking_uri, pipeline_file)
    context.recorder = recorder = RunRecorder(
        uri,
        pipeline_file,
        result.params,
        pipeline_file.pipeline.notebook_hash,
        git_commit(pipeline_file.folder),
    )
    result.run_id = recorder.start()
    for step in result.steps.values():
        step_run_id = recorder.record_step(step)
        log_data_reports(uri, step_run_id, step)
        if step.status == StepStatus.RAN or (step.status == StepStatus.CACHED and not step.run_id):
            step.run_id, step.parent_run_id = step_run_id, result.run_id
            context.remember(step)


def needs_record(step: StepResult) -> bool:
    """Whether a tracked run has to record this step (a cached one only when it never was)."""
    if step.status in (StepStatus.RAN, StepStatus.FAILED):
        return True
    return step.status == StepStatus.CACHED and step.run_id is None


def register_link(context: AfterRun) -> None:
    """After-run link ``register``: log and register (without an alias) the model of every
    ``--model`` step that ran, or whose cached model was never registered under its current
    name (``model_names.py``); the ``gates`` link decides which aliases it gets."""
    if not context.track:
        return
    pipeline = context.pipeline_file.pipeline
    single = sum(1 for s in pipeline.steps if s.model) == 1
    for step in context.model_steps():
        name = context.model_name(step.name)
        if step.status == StepStatus.CACHED and registered_as(step, name, pipeline.name):
            continue
        if step.run_id is None:
            continue  # its recording failed: the run has failed already; the next run retries
        if context.uri is None:  # nothing new to record, but a model left to register
            context.uri = open_tracking_store(context.tracking_uri, context.pipeline_file)
        model_var = str(pipeline.step(step.name).model)
        version = register_model(
            context.uri, context.pipeline_file, context.result, step, model_var, context.store
        )
        context.registered[step.name] = context.result.model_versions[name] = version
        if single:
            context.result.model_version = version


def registered_as(step: StepResult, name: str, pipeline_name: str) -> bool:
    """Whether the cached model of ``step`` is registered as model ``name`` already (a cache
    entry without a model name predates per-model names: it registered the pipeline name)."""
    if step.model_version is None:
        return False
    return (step.model_name or pipeline_name) == name


def open_tracking_store(tracking_uri: str | None, pipeline_file: PipelineFile) -> str:
    """Resolve the tracking URI and open its store once (MLflow caches it per URI)."""
    uri = resolve_tracking_uri(tracking_uri, project_root(pipeline_file.folder))
    make_client(uri)
    return uri


def log_data_reports(tracking_uri: str, run_id: str, step: StepResult) -> None:
    """Log a step's failing validation reports (``validation/<step>.<name>.txt`` and
    ``.json``) and its drift above threshold (``validation/<step>.<name>.drift.txt``)."""
    if not step.validation and not step.drift:
        return
    from jupyter_mlops.tracking.store import mlflow_errors

    client = make_client(tracking_uri)
    with mlflow_errors(tracking_uri, f"log the data reports of step '{step.name}'"):
        for name, report in step.validation.items():
            client.log_text(run_id, report.to_text(), f"validation/{step.name}.{name}.txt")
            client.log_dict(run_id, report.to_json(), f"validation/{step.name}.{name}.json")
        for name, drift in step.drift.items():
            client.log_text(run_id, drift.to_text(), f"validation/{step.name}.{name}.drift.txt")


def register_model(
    tracking_uri: str,
    pipeline_file: PipelineFile,
    result: RunResult,
    step: StepResult,
    model_var: str,
    store: ArtifactStore,
) -> str:
    """Log the step's model in its run and register it under its model name, without an
    alias. The signature comes from the step's inputs or, when none is the 2-D data the
    model was fitted on, from the data upstream (``registry/lineage.py``).

    The model may refer to the pipeline's own code (``<package>.common``, a step module):
    the package is importable while the model is loaded and logged, and the logged model
    carries that code by value, so loading it needs no pipeline folder."""
    from jupyter_mlops.pipeline.model_names import model_name
    from jupyter_mlops.registry.lineage import fit_data
    from jupyter_mlops.registry.model_code import importable_package
    from jupyter_mlops.registry.models import log_and_register_model

    assert step.run_id is not None
    pipeline = pipeline_file.pipeline
    tags = {f"mlops.data.{var}": ref.hash for var, ref in step.inputs.items()}
    with importable_package(pipeline_file.folder, pipeline_file.package):
        model = store.get(step.outputs[model_var])
        fit_inputs = fit_data(pipeline, result, store, step.name, model)
        return log_and_register_model(
            tracking_uri,
            step.run_id,
            model,
            fit_inputs,
            pipeline.name,
            tags,
            registered_name=model_name(pipeline, step.name),
            alias=None,
        )
