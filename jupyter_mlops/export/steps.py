"""What an exported pipeline runs: one task per step, each ``jupyter-mlops run PIPELINE_DIR
--only STEP --store STORE -p NAME=VALUE …`` in the pipeline's image.

A task runs its step through the same runner as a local run, against the shared artifact
store at ``STORE``: its upstream steps' outputs come from the cache index there, and what it
writes (content-addressed artifacts, its cache entry) is what a local run writes, so a
later local or exported run finds it. ``--only`` runs the selected step even when its
cache entry matches: a task always computes its step. Every task gets every pipeline
parameter, so the upstream entries it looks up are those of the same parameter values. The
orchestrator's own caching is left off: it cannot know what the store holds.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from jupyter_mlops.errors import ExportError
from jupyter_mlops.pipeline.model import Pipeline, Step

STORE_PARAMETER = "mlops_store"
"""The orchestrator parameter holding the shared artifact store's URL (``--store``)."""
DEFAULT_PIPELINE_DIR = "/pipeline"
"""Where the image holds the extracted pipeline folder (``--pipeline-dir``)."""
DEFAULT_RETRIES = 2
OPERATORS = ("kubernetes", "bash")
"""Airflow operators of a step's task (``--operator``; the first is the default)."""
COMMAND = "jupyter-mlops"
MAX_RETRIES = 100
_NOT_DNS = re.compile(r"[^a-z0-9-]+")
# The parameter types an orchestrator can declare, by Python type of the default
# (bool before int: a bool is an int).
PARAMETER_TYPES: tuple[tuple[type, str], ...] = (
    (bool, "boolean"),
    (int, "integer"),
    (float, "number"),
    (str, "string"),
    (list, "array"),
    (dict, "object"),
)


@dataclass(frozen=True)
class ExportOptions:
    """``--image``, ``--store``, ``--retries``, ``--pipeline-dir`` and, for Airflow,
    ``--operator``; ``check()`` refuses a bad value naming the option."""

    image: str | None = None
    store: str | None = None
    retries: int = DEFAULT_RETRIES
    pipeline_dir: str = DEFAULT_PIPELINE_DIR
    operator: str = "kubernetes"

    def check(self) -> ExportOptions:
        for option, value in (("--image", self.image), ("--store", self.store)):
            if value is not None and (not value.strip() or any(c.isspace() for c in value)):
                raise ExportError(f"{option} must be a non-empty value without spaces: {value!r}")
        if isinstance(self.retries, bool) or not 0 <= self.retries <= MAX_RETRIES:
            raise ExportError(f"--retries must be a whole number from 0 to {MAX_RETRIES}")
        if self.operator not in OPERATORS:
            raise ExportError(
                f"unknown --operator '{self.operator}' (choose {' or '.join(OPERATORS)})",
                name="--operator",
            )
        if not self.pipeline_dir.strip():
            raise ExportError("--pipeline-dir must not be empty")
        return self


@dataclass(frozen=True)
class Parameter:
    """A pipeline parameter as the orchestrator declares it: name, type name (one of
    ``PARAMETER_TYPES``) and default (``None``: required, for the store)."""

    name: str
    type: str
    default: Any = None
    required: bool = False


@dataclass(frozen=True)
class ParamRef:
    """A command argument built from a parameter's value: ``prefix`` + the value."""

    name: str
    prefix: str = ""


Argument = str | ParamRef


@dataclass(frozen=True)
class StepTask:
    """One step's task: its name, the steps it waits for, its command arguments (after
    ``jupyter-mlops``) and its container limits (``cpu``, ``memory``; may be empty)."""

    name: str
    upstream: list[str]
    arguments: list[Argument]
    limits: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ExportPlan:
    """The pipeline as an orchestrator sees it: parameters (the store first), tasks in
    notebook order (every task after its upstream), image and retries."""

    name: str
    dns_name: str
    image: str
    retries: int
    parameters: list[Parameter]
    tasks: list[StepTask]


def plan_export(
    pipeline: Pipeline,
    options: ExportOptions,
    resources: Mapping[str, Mapping[str, float]] | None = None,
) -> ExportPlan:
    """The plan of ``pipeline`` under ``options`` (checked), with each step's cpu and
    memory limits from ``resources`` (step → amounts: ``--resources`` and the ``resources:``
    section, ``execute/executors/resources.py``)."""
    options = options.check()
    if not pipeline.steps:
        raise ExportError("the pipeline has no steps to export", path=pipeline.notebook)
    if STORE_PARAMETER in pipeline.params:
        raise ExportError(
            f"the pipeline parameter '{STORE_PARAMETER}' clashes with the store parameter "
            "of the export; rename it in the notebook's parameters cell",
            name=STORE_PARAMETER,
        )
    dns = dns_name(pipeline.name)
    store = Parameter(STORE_PARAMETER, "string", options.store, required=options.store is None)
    parameters = [store] + [_parameter(n, v) for n, v in pipeline.params.items()]
    names = list(pipeline.params)
    return ExportPlan(
        name=pipeline.name,
        dns_name=dns,
        image=options.image or default_image(pipeline.name),
        retries=options.retries,
        parameters=parameters,
        tasks=[
            _task(step, names, options.pipeline_dir, (resources or {}).get(step.name, {}))
            for step in pipeline.steps
        ],
    )


def default_image(pipeline_name: str) -> str:
    """``<pipeline>-pipeline:latest``, the image name ``--image`` defaults to."""
    return f"{dns_name(pipeline_name)}-pipeline:latest"


def dns_name(text: str) -> str:
    """``text`` as a DNS-1035 label: lower case, ``-``, starting with a letter."""
    name = _NOT_DNS.sub("-", text.lower().replace("_", "-")).strip("-")
    if not name or not name[0].isalpha():
        name = f"p-{name}".rstrip("-")
    return name[:63].rstrip("-")


def _parameter(name: str, default: Any) -> Parameter:
    for python_type, type_name in PARAMETER_TYPES:
        if type(default) is python_type:
            if isinstance(default, float) and not math.isfinite(default):
                break
            return Parameter(name, type_name, default)
    raise ExportError(
        f"parameter '{name}' has default {default!r}: an exported parameter needs a finite "
        "bool, int, float, str, list or dict default",
        name=name,
    )


def _task(
    step: Step, parameters: list[str], pipeline_dir: str, amounts: Mapping[str, float]
) -> StepTask:
    arguments: list[Argument] = ["run", pipeline_dir, "--only", step.name]
    arguments += ["--store", ParamRef(STORE_PARAMETER)]
    for name in parameters:
        arguments += ["-p", ParamRef(name, prefix=f"{name}=")]
    return StepTask(step.name, step.upstream(), arguments, step_limits(amounts))


def step_limits(amounts: Mapping[str, float]) -> dict[str, str]:
    """Kubernetes limits from a step's ``resources:`` amounts (``execute/executors/
    resources.py``: cpu in cores, memory in bytes): ``cpu`` and ``memory`` only, the other
    resources being a Dask worker's labels."""
    limits = {}
    if "cpu" in amounts:
        cpu = amounts["cpu"]
        limits["cpu"] = str(int(cpu)) if float(cpu).is_integer() else f"{round(cpu * 1000)}m"
    if "memory" in amounts:
        limits["memory"] = str(round(amounts["memory"]))
    return limits
