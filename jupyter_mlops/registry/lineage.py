"""The data a model was fitted on, found through the pipeline's lineage.

A model step's inputs usually hold its training frame. When they hold no 2-D value the
model matches (e.g. the step receives a fitted scaler and a list of columns), the data is
further up: the inputs and outputs of the steps that produced the model step's inputs,
then of their producers, one hop at a time. The first hop holding a value
:func:`~jupyter_mlops.registry.models.training_input` accepts (columns equal to
``feature_names_in_``, or as many columns as ``n_features_in_``) gives the signature and
the input example.

A model fitted on data its step computed (``selector.transform(X_train)`` inside the step)
matches no stored value. Then a fitted transformer among the model step's inputs and
outputs (``selector``) that accepts one of the values seen on the way, and whose output the
model accepts, gives the data: that value's first rows, transformed.
"""

from __future__ import annotations

import logging
from typing import Any

from jupyter_mlops.artifacts.store import ArtifactRef, ArtifactStore
from jupyter_mlops.execute.run_result import RunResult
from jupyter_mlops.pipeline.model import Pipeline
from jupyter_mlops.registry.models import input_example, training_input

log = logging.getLogger(__name__)

# Serializers that never hold a frame or a 2-D array (estimators, JSON values).
_NOT_DATA = ("skops", "joblib", "json")


def fit_data(
    pipeline: Pipeline, result: RunResult, store: ArtifactStore, step: str, model: Any
) -> dict[str, Any]:
    """The values of ``step``'s inputs, plus — when none of them is the data ``model`` was
    fitted on — the nearest upstream value that is (named ``<step>.<variable>``)."""
    inputs = {var: store.get(ref) for var, ref in result.steps[step].inputs.items()}
    if training_input(model, inputs) is not None:
        return inputs
    seen = set(result.steps[step].inputs.values())
    every_value = dict(inputs)
    producers = pipeline.step(step).upstream()
    visited: set[str] = set()
    while producers:
        candidates = _hop_values(result, store, producers, seen)
        found = training_input(model, candidates)
        if found is not None:
            log.info("model of step '%s': signature from upstream value '%s'", step, found[0])
            return {**inputs, found[0]: found[1]}
        every_value.update(candidates)
        visited.update(producers)
        producers = sorted(
            {p for name in producers for p in pipeline.step(name).upstream()} - visited
        )
    transformed = _through_a_transformer(model, _transformers(result, store, step), every_value)
    if transformed is not None:
        log.info("model of step '%s': signature from '%s'", step, transformed[0])
        return {**inputs, transformed[0]: transformed[1]}
    return inputs


def _transformers(result: RunResult, store: ArtifactStore, step: str) -> dict[str, Any]:
    """The fitted transformers among ``step``'s inputs and outputs (not the model)."""
    found: dict[str, Any] = {}
    refs = {**result.steps[step].inputs, **result.steps[step].outputs}
    for var, ref in refs.items():
        if ref.serializer not in _NOT_DATA:
            continue
        value = store.get(ref)
        if hasattr(value, "transform") and hasattr(value, "n_features_in_"):
            found[var] = value
    return found


def _through_a_transformer(
    model: Any, transformers: dict[str, Any], values: dict[str, Any]
) -> tuple[str, Any] | None:
    """``(description, rows)``: the first rows of a value some transformer accepts, transformed,
    when the model accepts the result; None when no pair fits."""
    for transformer_name, transformer in transformers.items():
        if transformer is model:
            continue
        accepted = training_input(transformer, values)
        if accepted is None:
            continue
        try:
            rows = transformer.transform(input_example(accepted[1]))
        except Exception:  # noqa: BLE001 — a transformer that cannot take these rows does not fit
            continue
        name = f"{transformer_name}.transform({accepted[0]})"
        if training_input(model, {name: rows}) is not None:
            return name, rows
    return None


def _hop_values(
    result: RunResult, store: ArtifactStore, steps: list[str], seen: set[ArtifactRef]
) -> dict[str, Any]:
    """The not yet seen data values among the inputs and outputs of ``steps``."""
    values: dict[str, Any] = {}
    for name in steps:
        step = result.steps[name]
        for var, ref in [*step.inputs.items(), *step.outputs.items()]:
            if ref in seen or ref.serializer in _NOT_DATA:
                continue
            seen.add(ref)
            values[f"{name}.{var}"] = store.get(ref)
    return values
