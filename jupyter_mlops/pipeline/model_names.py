"""Registered model names: one registered model per ``--model`` step.

The rule, in order:

1. ``--model-name NAME`` on the step's ``%%mlstep`` line (stored in pipeline.yaml as
   ``model_name``) is the name;
2. a pipeline with a single ``--model`` step registers it under the pipeline name;
3. with several, each model is ``<pipeline>-<variable>`` (``regression-ridge``), or
   ``<pipeline>-<step>`` when several model steps use the same variable name.

Two steps that end up with the same name are refused (``DuplicateModelName``).
"""

from __future__ import annotations

import re
from collections import Counter

from jupyter_mlops.errors import DuplicateModelName
from jupyter_mlops.pipeline.model import Pipeline

MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
"""A name ``--model-name`` accepts (letters, digits, ``_ . -``; MLflow takes it as is)."""


def model_names(pipeline: Pipeline) -> dict[str, str]:
    """``--model`` step → its registered model name, in notebook order."""
    model_steps = [step for step in pipeline.steps if step.model]
    variables = Counter(step.model for step in model_steps)
    names: dict[str, str] = {}
    for step in model_steps:
        if step.model_name:
            name = step.model_name
        elif len(model_steps) == 1:
            name = pipeline.name
        elif variables[step.model] == 1:
            name = f"{pipeline.name}-{step.model}"
        else:
            name = f"{pipeline.name}-{step.name}"
        other = next((s for s, n in names.items() if n == name), None)
        if other is not None:
            raise DuplicateModelName(
                f"steps '{other}' and '{step.name}' would both register model '{name}'; "
                "give one of them another name with --model-name",
                step=step.name,
                name=name,
            )
        names[step.name] = name
    return names


def model_name(pipeline: Pipeline, step: str) -> str:
    """The registered model name of ``--model`` step ``step``."""
    return model_names(pipeline)[step]


def model_step(pipeline: Pipeline, name: str) -> str | None:
    """The ``--model`` step that registers model ``name``; None when none does."""
    return next((step for step, found in model_names(pipeline).items() if found == name), None)
