"""Re-score models on this run's evaluation data, for the gates.

The champion is scored by calling the step functions again — the ``--metrics`` steps and
any step between the ``--model`` step and them — with the champion model in place of the
``--model`` variable and every other input loaded from this run's artifacts. For slices,
the same chain runs once per value of the slice column, on inputs filtered to those rows:
for the champion and for the new model alike.

This happens in one single-use worker process (``execute/fresh_process.py``):
the user's step modules are imported with the pipeline folder on ``sys.path`` and may set
module globals, print, or crash, none of which must touch the calling process. Its output
goes to a log file. Errors come back as text and become reasons to reject.
"""

from __future__ import annotations

import copy
import importlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyter_mlops.execute.fresh_process import call_in_fresh_process, enter_pipeline_folder
from jupyter_mlops.registry.sealed_model import download_sealed, load_model_object

MODEL = "<model>"  # source of the input that gets the model being scored
RUN = "<run>"  # source of an input loaded from this run's artifacts
MAX_SLICES = 50


@dataclass(frozen=True)
class ScoringStep:
    """One step of the chain. ``sources`` maps each input to MODEL, RUN or the chain step
    producing it; ``run_inputs`` maps the RUN inputs to their artifact files."""

    name: str
    module: str
    params: dict[str, Any]
    sources: dict[str, str]
    run_inputs: dict[str, str]
    outputs: list[str]
    metrics: str | None  # the --metrics variable, when this step's metrics are gated


@dataclass(frozen=True)
class ScoringJob:
    """What the worker scores: the champion (when ``champion_uri``) and, with a slice
    column, both models per slice."""

    pipeline_dir: str
    store_root: str
    tracking_uri: str
    steps: list[ScoringStep]
    new_model_path: str
    champion_uri: str | None
    slice_column: str | None
    log_path: str
    champion_seal: str | None = None  # its version's mlops.model_seal tag


@dataclass
class Scores:
    """Per ``--metrics`` step, name → value; ``slices``: label → {"new"|"champion": …}."""

    champion: dict[str, dict[str, float]] = field(default_factory=dict)
    slices: dict[str, dict[str, dict[str, dict[str, float]]]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def score_in_worker(job: ScoringJob) -> Scores:
    """Run :func:`score_models` in a fresh worker process."""
    try:
        return call_in_fresh_process(score_models, job)
    except Exception as error:  # the worker died, or a result could not be sent back
        return Scores(errors=[f"re-scoring failed: {type(error).__name__}: {error}"])


def score_models(job: ScoringJob) -> Scores:
    """In the worker: load models and inputs, run the chain for each model (and slice)."""
    from jupyter_mlops.runtime import load_input

    os.environ["JUPYTER_MLOPS_STORE"] = job.store_root
    os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = "false"
    enter_pipeline_folder(job.pipeline_dir, job.log_path)
    scores = Scores()
    try:
        inputs = {
            (step.name, var): load_input(path)
            for step in job.steps
            for var, path in step.run_inputs.items()
        }
    except Exception as error:
        scores.errors.append(f"cannot load this run's evaluation data: {error}")
        return scores
    models: dict[str, Any] = {}
    if job.champion_uri is not None:
        try:
            models["champion"] = load_registered_model(
                job.champion_uri, job.tracking_uri, job.champion_seal
            )
            scores.champion = run_chain(job.steps, models["champion"], inputs)
        except Exception as error:
            scores.errors.append(
                f"cannot re-score the champion on this run's evaluation data: {_describe(error)}"
            )
            return scores
    if job.slice_column is not None and models:
        models["new"] = load_input(job.new_model_path)
        score_slices(job, models, inputs, scores)
    return scores


def score_slices(
    job: ScoringJob, models: dict[str, Any], inputs: dict[tuple[str, str], Any], scores: Scores
) -> None:
    """Fill ``scores.slices``: every model scored on the rows of each slice value."""
    assert job.slice_column is not None
    column = slice_column(inputs, job.slice_column)
    if column is None:
        steps = ", ".join(step.name for step in job.steps)
        scores.errors.append(
            f"slices.column '{job.slice_column}' is in no DataFrame (or Series) input of "
            f"step {steps}"
        )
        return
    values = sorted(set(column.tolist()), key=str)
    if len(values) > MAX_SLICES:
        scores.errors.append(
            f"slices.column '{job.slice_column}' has {len(values)} distinct values "
            f"(at most {MAX_SLICES}: use a categorical column)"
        )
        return
    for value in values:
        mask = (column == value).to_numpy()
        rows = {key: take_rows(data, mask) for key, data in inputs.items()}
        label = str(value)
        for name, model in models.items():
            try:
                scores.slices.setdefault(label, {})[name] = run_chain(job.steps, model, rows)
            except Exception as error:
                scores.errors.append(
                    f"slice {job.slice_column}={label}: scoring the {name} raised "
                    f"{_describe(error)}"
                )


def run_chain(
    steps: list[ScoringStep], model: Any, inputs: dict[tuple[str, str], Any]
) -> dict[str, dict[str, float]]:
    """Call each step function with ``model`` as the model; the gated metrics per step."""
    from jupyter_mlops.execute.engines.inprocess import returned_outputs

    produced: dict[tuple[str, str], Any] = {}
    metrics: dict[str, dict[str, float]] = {}
    for step in steps:
        arguments: dict[str, Any] = dict(step.params)
        for var, source in step.sources.items():
            if source == MODEL:
                arguments[var] = model
            elif source == RUN:  # a copy: step functions may change inputs in place
                arguments[var] = copy.deepcopy(inputs[(step.name, var)])
            else:
                arguments[var] = produced[(source, var)]
        function = getattr(importlib.import_module(step.module), step.name)
        outputs = returned_outputs(function(**arguments), step.outputs)
        produced.update({(step.name, var): value for var, value in outputs.items()})
        if step.metrics is not None:
            metrics[step.name] = numbers(outputs[step.metrics], step.metrics)
    return metrics


def numbers(value: Any, var: str) -> dict[str, float]:
    """A ``--metrics`` dict as name → float (non-numbers are an error)."""
    if not isinstance(value, dict):
        raise TypeError(f"--metrics variable '{var}' is a {type(value).__name__}, not a dict")
    return {str(key): float(number) for key, number in value.items()}


def slice_column(inputs: dict[tuple[str, str], Any], column: str) -> Any:
    """The first DataFrame column (or Series) named ``column`` among ``inputs``, else None."""
    for value in inputs.values():
        columns = getattr(value, "columns", None)
        if columns is not None and hasattr(value, "iloc") and column in columns:
            return value[column]
        if hasattr(value, "iloc") and getattr(value, "ndim", 0) == 1 and value.name == column:
            return value
    return None


def take_rows(value: Any, mask: Any) -> Any:
    """The rows of ``value`` where ``mask`` is true, when ``value`` is a DataFrame, Series
    or array with as many rows as ``mask``; anything else unchanged."""
    if getattr(value, "ndim", 0) < 1 or len(value) != len(mask):
        return value
    if hasattr(value, "iloc"):
        return value.iloc[mask]
    if type(value).__module__ == "numpy":
        return value[mask]
    return value


def load_registered_model(download_uri: str, tracking_uri: str, model_seal: str | None) -> Any:
    """The model object of a registered version, loaded only when its files carry
    ``model_seal`` (:mod:`jupyter_mlops.registry.sealed_model`)."""
    with tempfile.TemporaryDirectory(prefix="mlops-champion-") as tmp:
        local = download_sealed(download_uri, tracking_uri, model_seal, Path(tmp))
        return load_model_object(local)


def _describe(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__
