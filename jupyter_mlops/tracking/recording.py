"""After a run: record it in MLflow, register a newly trained model, remember the run ids.

Called by the runner only when at least one step ran or failed (an all-cached run creates
no MLflow run). Cached steps are recorded too, tagged with the run that produced them.
"""

from __future__ import annotations

from jupyter_mlops.artifacts.store import ArtifactStore
from jupyter_mlops.execute.cache import StepCache
from jupyter_mlops.execute.run_result import RunResult, StepResult
from jupyter_mlops.pipeline.pipeline_file import PipelineFile
from jupyter_mlops.quality.gates.champion import gate_version
from jupyter_mlops.quality.gates.config import read_gates
from jupyter_mlops.tracking.gitinfo import git_commit, project_root
from jupyter_mlops.tracking.store import RunRecorder, make_client, resolve_tracking_uri


def record_run(
    pipeline_file: PipelineFile,
    result: RunResult,
    store: ArtifactStore,
    cache: StepCache,
    tracking_uri: str | None,
) -> None:
    """Write the parent run, one nested run per step and the model version; fill in run ids."""
    uri = open_tracking_store(tracking_uri, pipeline_file)
    recorder = RunRecorder(
        uri,
        pipeline_file,
        result.params,
        pipeline_file.pipeline.notebook_hash,
        git_commit(pipeline_file.folder),
    )
    result.run_id = recorder.start()
    try:
        for step in result.steps.values():
            step_run_id = recorder.record_step(step)
            log_data_reports(uri, step_run_id, step)
            if step.status == "ran":
                step.run_id, step.parent_run_id = step_run_id, result.run_id
                remember_run_ids(cache, step)
        gates = read_gates(pipeline_file)
        for step in result.steps.values():
            model_var = pipeline_file.pipeline.step(step.name).model
            if model_var and step.status == "ran":
                gated = gates.for_model(step.name) if gates else None
                result.model_version = register_model(
                    uri, pipeline_file, step, model_var, store, challenger=gated is None
                )
                result.gates = None
                if gated is not None:
                    result.gates = gate_version(
                        uri, pipeline_file, result, store, step.name, result.model_version, gated
                    )
    finally:
        recorder.finish(result)


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


def remember_run_ids(cache: StepCache, step: StepResult) -> None:
    """Add the MLflow run ids to the step's cache entry, so cached re-runs can point at them."""
    from jupyter_mlops.execute.cache import CacheEntry

    entry = CacheEntry(
        step.cache_key,
        step.outputs,
        step.seconds,
        run_id=step.run_id,
        parent_run_id=step.parent_run_id,
        metrics=step.metrics,
    )
    cache.record(step.name, entry)


def register_model(
    tracking_uri: str,
    pipeline_file: PipelineFile,
    step: StepResult,
    model_var: str,
    store: ArtifactStore,
    challenger: bool = True,
) -> str:
    """Log the step's model in its run and register it (alias ``challenger`` unless
    ``challenger`` is false: with gates, only a validated version gets it)."""
    from jupyter_mlops.registry.models import CHALLENGER, log_and_register_model

    assert step.run_id is not None
    model = store.get(step.outputs[model_var])
    fit_inputs = {var: store.get(ref) for var, ref in step.inputs.items()}
    tags = {f"mlops.data.{var}": ref.hash for var, ref in step.inputs.items()}
    return log_and_register_model(
        tracking_uri,
        step.run_id,
        model,
        fit_inputs,
        pipeline_file.pipeline.name,
        tags,
        alias=CHALLENGER if challenger else None,
    )
