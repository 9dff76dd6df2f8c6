"""The after-run links that write to MLflow: ``record`` (the run) and ``register`` (models).

An all-cached run whose steps were all recorded and whose models were all registered before
creates no MLflow run. Cached steps are recorded too, tagged with the run that produced them.
``record`` first closes the parent runs earlier runs of the folder left open
(``abandoned.py``). A model is registered once per model name and artifact: a version tagged
``mlops.model_sha256`` with the same artifact hash is reused, never registered again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from jupyter_mlops.artifacts.store import ArtifactStore
from jupyter_mlops.errors import PipelineError, TrackingError
from jupyter_mlops.execute.run_result import RunResult, StepResult
from jupyter_mlops.execute.status import StepStatus
from jupyter_mlops.pipeline.pipeline_file import PipelineFile
from jupyter_mlops.tracking.gitinfo import git_commit, project_root
from jupyter_mlops.tracking.store import RunRecorder, make_client, resolve_tracking_uri
from jupyter_mlops.tracking.tags import GATE, MODEL_SHA256

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
    close_earlier_runs(context)
    forget_other_stores(context)
    if not any(needs_record(step) for step in result.steps.values()) and not any(
        needs_register(context, step) for step in context.model_steps()
    ):
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
        extra_tags=context.run_tags,
    )
    result.run_id = recorder.start()
    if context.run_state is not None:
        context.run_state.parent_started(uri, result.run_id)
    for step in result.steps.values():
        step_run_id = recorder.record_step(step)
        log_data_reports(uri, step_run_id, step)
        if step.status == StepStatus.RAN or (step.status == StepStatus.CACHED and not step.run_id):
            step.run_id, step.parent_run_id = step_run_id, result.run_id
            step.tracking_uri = uri
            context.remember(step)


def close_earlier_runs(context: AfterRun) -> None:
    """Close the MLflow parent runs earlier runs of this folder left open (their process
    died, or could not close them) and drop their state files; their owed items were taken
    over already (``execute/owed.py``)."""
    from jupyter_mlops.execute.owed import earlier_runs
    from jupyter_mlops.tracking.abandoned import close_abandoned_run

    for earlier in earlier_runs(context):
        if earlier.parent_run_id and earlier.tracking_uri and not earlier.parent_closed:
            status, reason = earlier.abandoned_reason()
            try:
                close_abandoned_run(earlier.tracking_uri, earlier.parent_run_id, status, reason)
            except TrackingError as error:  # its store may not be this run's: retried later
                context.result.warnings.append(f"{error.path}: {error.message}")
                continue
        earlier.remove()


def forget_other_stores(context: AfterRun) -> None:
    """Cached steps recorded (and models registered) in another tracking store than this
    run's count as never recorded or registered here."""
    pipeline_file = context.pipeline_file
    uri = resolve_tracking_uri(context.tracking_uri, project_root(pipeline_file.folder))
    for step in context.result.steps.values():
        if step.tracking_uri is not None and step.tracking_uri != uri:
            step.run_id = step.parent_run_id = step.model_version = step.model_name = None
            step.tracking_uri = None


def needs_register(context: AfterRun, step: StepResult) -> bool:
    """Whether the model of ``--model`` step ``step`` still has to be registered: it ran, or
    its cached model was never registered under its current name."""
    if step.status != StepStatus.CACHED:
        return True
    name = context.model_name(step.name)
    return not registered_as(step, name, context.pipeline_file.pipeline.name)


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
        model_var = model_variable(context, step)
        if not needs_register(context, step):
            continue
        run_id = logged_in(context, step)
        if run_id is None:
            continue  # its recording failed: the run has failed already; the next run retries
        if context.uri is None:
            context.uri = open_tracking_store(context.tracking_uri, context.pipeline_file)
        version = reused_version(context, step, name, model_var)
        if version is None:
            version = register_model(
                context.uri,
                context.pipeline_file,
                context.result,
                step,
                model_var,
                context.store,
                run_id=run_id,
            )
            context.registered[step.name] = version
        context.result.model_versions[name] = version
        if single:
            context.result.model_version = version


def reused_version(context: AfterRun, step: StepResult, name: str, model_var: str) -> str | None:
    """The version of model ``name`` registered from this byte-identical model already (tag
    ``mlops.model_sha256``), if any: it is never registered twice. A version the gates
    decided on already keeps its decision (remembered in the step's cache entry); one never
    decided (its run died) goes on to the ``gates`` link."""
    from jupyter_mlops.registry.versions import version_with_tag

    assert context.uri is not None
    found = version_with_tag(context.uri, name, MODEL_SHA256, step.outputs[model_var].hash)
    if found is None:
        return None
    version, tags = found
    if GATE in tags:
        step.model_version, step.model_name, step.tracking_uri = version, name, context.uri
        context.remember(step)
    else:
        context.registered[step.name] = version
    context.result.notes.append(
        f"model '{name}': this model is byte-identical to version {version}, which is reused"
    )
    return version


def model_variable(context: AfterRun, step: StepResult) -> str:
    """The ``--model`` variable of ``step``, which must be one of its outputs."""
    model_var = str(context.pipeline_file.pipeline.step(step.name).model)
    if model_var not in step.outputs:
        outputs = ", ".join(sorted(step.outputs)) or "none"
        raise PipelineError(
            f"step '{step.name}': --model variable '{model_var}' is not one of its outputs "
            f"({outputs}); re-extract the pipeline",
            name=model_var,
            path=str(context.pipeline_file.path),
        )
    return model_var


def logged_in(context: AfterRun, step: StepResult) -> str | None:
    """The step run to log the model in: this run's record of the step, else the run that
    produced it (None: the step was never recorded)."""
    recorder = context.recorder
    if recorder is not None and step.name in recorder.step_run_ids:
        return recorder.step_run_ids[step.name]
    return step.run_id


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
    *,
    run_id: str | None = None,
) -> str:
    """Log the step's model in its run and register it under its model name, without an
    alias. The signature comes from the step's inputs or, when none is the 2-D data the
    model was fitted on, from the data upstream (``registry/lineage.py``).

    The model may refer to the pipeline's own code (``<package>.common``, a step module):
    the package is importable while the model is loaded and logged, and the logged model
    carries that code by value, so loading it needs no pipeline folder; where that code reads
    a pipeline parameter, it reads the value this run trained the model with."""
    from jupyter_mlops.pipeline.model_names import model_name
    from jupyter_mlops.registry.lineage import fit_data
    from jupyter_mlops.registry.model_code import importable_package, run_parameters
    from jupyter_mlops.registry.models import log_and_register_model

    logged_in = run_id or step.run_id
    assert logged_in is not None
    pipeline = pipeline_file.pipeline
    tags = {f"mlops.data.{var}": ref.hash for var, ref in step.inputs.items()}
    tags[MODEL_SHA256] = step.outputs[model_var].hash
    trained_with = {**result.params, **step.params}  # what its setup code read
    with (
        importable_package(pipeline_file.folder, pipeline_file.package),
        run_parameters(trained_with),
    ):
        model = store.get(step.outputs[model_var])
        fit_inputs = fit_data(pipeline, result, store, step.name, model)
        return log_and_register_model(
            tracking_uri,
            logged_in,
            model,
            fit_inputs,
            pipeline.name,
            tags,
            registered_name=model_name(pipeline, step.name),
            alias=None,
        )
