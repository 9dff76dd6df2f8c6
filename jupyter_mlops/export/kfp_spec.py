"""A Kubeflow Pipelines v2 spec (IR YAML) of a pipeline, compiled with the kfp SDK
(the ``[kfp]`` extra).

One container component per step (``steps.py``: the image's ``jupyter-mlops run … --only
STEP``), the step DAG as task dependencies, the pipeline parameters as typed KFP pipeline
parameters with their defaults, ``mlops_store`` as a string parameter (required unless
``--store`` gave it a default), a retry policy per task (none with ``--retries 0``), the
cpu/memory limits of the step's ``resources:`` entry, and KFP's caching off (the
orchestrator cannot know what the store holds).
"""

from __future__ import annotations

import inspect
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jupyter_mlops.errors import ExportError
from jupyter_mlops.export.steps import COMMAND, ExportPlan, Parameter, ParamRef, StepTask

_PYTHON_TYPES: dict[str, type] = {
    "boolean": bool,
    "integer": int,
    "number": float,
    "string": str,
    "array": list,
    "object": dict,
}


def kfp_spec_text(plan: ExportPlan) -> str:
    """The compiled pipeline spec as YAML text (the same text for the same plan and SDK)."""
    try:
        from kfp import compiler
    except ModuleNotFoundError as error:
        raise ExportError(
            f"--to kfp needs the Kubeflow Pipelines SDK (no module '{error.name}'): "
            "pip install 'jupyter_mlops[kfp]'"
        ) from None
    pipeline = _pipeline(plan)
    with tempfile.TemporaryDirectory(prefix="jupyter_mlops_kfp_") as tmp:
        spec = Path(tmp) / "pipeline.yaml"
        compiler.Compiler().compile(pipeline_func=pipeline, package_path=str(spec))
        return spec.read_text(encoding="utf-8")


def _signature(parameters: list[Parameter], with_defaults: bool) -> inspect.Signature:
    """A function signature KFP reads as the component's (or pipeline's) typed inputs."""
    return inspect.Signature(
        [
            inspect.Parameter(
                p.name,
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                annotation=_PYTHON_TYPES[p.type],
                default=p.default if with_defaults and not p.required else inspect.Parameter.empty,
            )
            for p in parameters
        ]
    )


def _named_function(name: str, doc: str, signature: inspect.Signature, body: Callable) -> Any:
    """``body`` under ``name`` with ``signature``: the way KFP's decorators see a function."""
    body.__name__ = body.__qualname__ = name
    body.__doc__ = doc
    body.__signature__ = signature  # type: ignore[attr-defined]
    return body


def _component(plan: ExportPlan, task: StepTask) -> Any:
    """The container component running ``task``'s step."""
    from kfp import dsl

    signature = _signature(plan.parameters, with_defaults=False)

    def container(*values: Any) -> Any:
        inputs = dict(zip(signature.parameters, values, strict=True))
        return dsl.ContainerSpec(
            image=plan.image,
            command=[COMMAND],
            args=[_argument(argument, inputs) for argument in task.arguments],
        )

    doc = f"Step '{task.name}' of pipeline '{plan.name}', run by jupyter-mlops."
    return dsl.container_component(_named_function(task.name, doc, signature, container))


def _argument(argument: str | ParamRef, inputs: dict[str, Any]) -> Any:
    from kfp import dsl

    if isinstance(argument, str):
        return argument
    value = inputs[argument.name]
    return dsl.ConcatPlaceholder([argument.prefix, value]) if argument.prefix else value


def _pipeline(plan: ExportPlan) -> Any:
    """The KFP pipeline: one task per step, after its upstream, with retries and limits."""
    from kfp import dsl

    components = {task.name: _component(plan, task) for task in plan.tasks}
    signature = _signature(plan.parameters, with_defaults=True)

    def graph(*args: Any, **kwargs: Any) -> None:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        started: dict[str, Any] = {}
        for task in plan.tasks:
            run = components[task.name](**bound.arguments)
            run.set_display_name(task.name)
            run.set_caching_options(enable_caching=False)
            if plan.retries:
                run.set_retry(num_retries=plan.retries)
            if "cpu" in task.limits:
                run.set_cpu_limit(task.limits["cpu"])
            if "memory" in task.limits:
                run.set_memory_limit(task.limits["memory"])
            if task.upstream:
                run.after(*(started[name] for name in task.upstream))
            started[task.name] = run

    doc = f"Pipeline '{plan.name}', exported by jupyter mlops export --to kfp."
    body = _named_function(plan.dns_name.replace("-", "_"), doc, signature, graph)
    return dsl.pipeline(name=plan.dns_name, description=doc)(body)
