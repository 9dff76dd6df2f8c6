"""What a step needs from a cluster worker: its ``%%mlstep --resources`` and the
``resources:`` section of pipeline.yaml.

::

    resources:
      train: {cpu: 2, memory: 4GB}
      featurize: cpu=1,memory=500MB

Each step name maps to resource amounts (a mapping, or ``name=amount`` pairs separated by
commas; the syntax is ``pipeline/resources.py``'s). A step's entry in the section replaces
the resources its ``%%mlstep`` line declares, as a whole: the section is the operator's
override, edited without touching the notebook. The Dask executor passes them as the
task's resources (``{"cpu": 2, "memory": 4e9}``): the step runs only on a worker started
with at least as much of each (``dask worker --resources "cpu=4,memory=16e9"``). The local
executor ignores them; ``export`` turns cpu and memory into container limits.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from jupyter_mlops.errors import PipelineError
from jupyter_mlops.pipeline.model import Pipeline
from jupyter_mlops.pipeline.resources import parse_resources

__all__ = ["parse_resources", "pipeline_resources", "step_resources"]


def pipeline_resources(pipeline: Pipeline, section: Any, where: str) -> dict[str, dict[str, float]]:
    """Step name → {resource: amount}: each step's own ``resources`` (its ``%%mlstep`` line),
    replaced by its entry in the ``resources:`` section when it has one."""
    declared = {step.name: dict(step.resources) for step in pipeline.steps if step.resources}
    return declared | step_resources(section, [step.name for step in pipeline.steps], where)


def step_resources(section: Any, steps: Collection[str], where: str) -> dict[str, dict[str, float]]:
    """Step name → {resource: amount} from the ``resources:`` section (absent: none);
    ``PipelineError`` naming the step or resource when something is wrong."""
    if section is None:
        return {}
    if not isinstance(section, dict):
        raise PipelineError("resources: must map step names to resources", path=where)
    parsed: dict[str, dict[str, float]] = {}
    for step, spec in section.items():
        if step not in steps:
            known = ", ".join(sorted(steps))
            raise PipelineError(
                f"resources: no step named '{step}' (steps: {known})", name=str(step), path=where
            )
        parsed[step] = parse_resources(spec, f"resources.{step}", where)
    return parsed
