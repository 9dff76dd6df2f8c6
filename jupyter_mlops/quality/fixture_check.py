"""Whether each step still runs on its sampled fixture inputs.

Position-based code (``data[:400]``, ``data[400:]``) breaks on a few hundred sampled rows:
a step raises or hands on an empty frame. When fixtures are captured, every step with a
sampled input is called once on the fixtures (its other inputs as the run stored them, the
default parameters); a step that raises, or returns an empty output where the run had rows,
is reported with the reason. This runs in one single-use worker process (``execute/fresh_process.py``): the step modules are imported there, and their output goes to a log.
"""

from __future__ import annotations

import copy
import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from jupyter_mlops.artifacts.store import ArtifactRef
from jupyter_mlops.execute.fresh_process import call_in_fresh_process, enter_pipeline_folder

if TYPE_CHECKING:
    from jupyter_mlops.pipeline.pipeline_file import PipelineFile


@dataclass(frozen=True)
class SampleCheck:
    """One step to call: ``sampled`` inputs are (file, serializer) in the staging folder,
    ``whole`` inputs are the run's refs; ``run_rows`` the rows of its row-like outputs."""

    step: str
    module: str
    params: dict[str, Any]
    sampled: dict[str, tuple[str, str]]
    whole: dict[str, ArtifactRef]
    outputs: list[str]
    run_rows: dict[str, int]


@dataclass(frozen=True)
class CheckJob:
    """Where the steps live and their stored inputs are; where their output goes."""

    pipeline_dir: str
    store_root: str
    log_path: str
    checks: list[SampleCheck]


def steps_failing_on_samples(job: CheckJob) -> dict[str, str]:
    """Step → why it cannot run on its sampled fixtures, for the steps of ``job`` that fail."""
    if not job.checks:
        return {}
    try:
        return call_in_fresh_process(check_steps, job)
    except Exception as error:  # the worker died, or a result could not be sent back
        reason = f"the check of the sampled fixtures failed: {type(error).__name__}: {error}"
        return {check.step: reason for check in job.checks}


def check_steps(job: CheckJob) -> dict[str, str]:
    """In the worker: call each step on its fixtures; step → reason for those that fail."""
    enter_pipeline_folder(job.pipeline_dir, job.log_path, new_log=True)
    failing = {}
    for check in job.checks:
        reason = _failure(job, check)
        if reason is not None:
            failing[check.step] = reason
    return failing


def _failure(job: CheckJob, check: SampleCheck) -> str | None:
    """Why ``check.step`` cannot run on its sampled fixtures, or None when it can."""
    from jupyter_mlops.artifacts.serializers import registry as serializers
    from jupyter_mlops.artifacts.store import ArtifactStore
    from jupyter_mlops.execute.engines.inprocess import returned_outputs
    from jupyter_mlops.quality.fixture_sampling import row_count

    store = ArtifactStore(job.store_root)
    try:
        arguments = {
            var: serializers.get_serializer(serializer).load(path)
            for var, (path, serializer) in check.sampled.items()
        }
        arguments |= {var: copy.deepcopy(store.get(ref)) for var, ref in check.whole.items()}
        function = getattr(importlib.import_module(check.module), check.step)
        outputs = returned_outputs(function(**arguments, **check.params), check.outputs)
    except BaseException as error:  # the user's code: whatever it raised is the reason
        return f"{type(error).__name__}: {error}"
    empty = [
        f"'{name}' (the run had {rows} rows)"
        for name, rows in sorted(check.run_rows.items())
        if rows > 0 and row_count(outputs[name]) == 0
    ]
    return f"output {', '.join(empty)} came out empty" if empty else None


def sample_checks(
    pipeline_file: PipelineFile,
    outputs: dict[str, dict[str, ArtifactRef]],
    sampled: dict[str, tuple[str, str]],
) -> list[SampleCheck]:
    """A check for each step taking a sampled input (``sampled``: key → (file, serializer))."""
    from jupyter_mlops.quality.fixture_sampling import ref_rows

    checks = []
    for step in pipeline_file.pipeline.steps:
        keys = {var: f"{producer}.{var}" for var, producer in step.inputs.items()}
        if not any(key in sampled for key in keys.values()):
            continue
        ran = outputs.get(step.name, {})
        checks.append(
            SampleCheck(
                step=step.name,
                module=pipeline_file.modules[step.name],
                params={name: pipeline_file.pipeline.params[name] for name in step.params},
                sampled={var: sampled[key] for var, key in keys.items() if key in sampled},
                whole={
                    var: outputs[key.partition(".")[0]][var]
                    for var, key in keys.items()
                    if key not in sampled
                },
                outputs=list(step.outputs),
                run_rows={n: rows for n, ref in ran.items() if (rows := ref_rows(ref)) is not None},
            )
        )
    return checks


def keys_to_keep_whole(pipeline_file: PipelineFile, step: str, sampled: dict[str, int]) -> set[str]:
    """The sampled inputs to keep whole so ``step`` gets the run's rows: its own, those sharing
    their rows (``sampled``: key → rows in the run), and, for the whole pipeline to rebuild
    them, those of the steps producing them, up to the first steps."""
    pipeline = pipeline_file.pipeline
    keep: set[str] = set()
    pending = [step]
    while pending:
        current = pipeline.step(pending.pop())
        for var, producer in current.inputs.items():
            key = f"{producer}.{var}"
            if key in sampled and key not in keep:
                group = {k for k, rows in sampled.items() if rows == sampled[key]}
                keep |= group
                pending += sorted({k.partition(".")[0] for k in group})
    return keep
