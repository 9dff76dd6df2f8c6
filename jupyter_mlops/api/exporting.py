"""Use case: export a pipeline to an orchestrator (``jupyter mlops export``): a Kubeflow
Pipelines v2 spec or an Airflow DAG file. Re-exported by :mod:`jupyter_mlops.api`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jupyter_mlops.errors import ExportError, FileSystemError
from jupyter_mlops.export.steps import ExportOptions

if TYPE_CHECKING:
    from jupyter_mlops.export.steps import ExportPlan
    from jupyter_mlops.pipeline.pipeline_file import PipelineFile

__all__ = ["EXPORT_TARGETS", "ExportOptions", "ExportResult", "export"]

EXPORT_TARGETS = ("kfp", "airflow")


@dataclass(frozen=True)
class ExportResult:
    """What was written: the target, the file, the image (none for Airflow's ``bash``
    operator), the tasks and their edges (``upstream → step``), the parameters (the
    store first), and with ``--image-context`` the image's build context folder."""

    target: str
    pipeline: str
    path: Path
    image: str | None
    tasks: list[str]
    edges: list[tuple[str, str]]
    parameters: list[str]
    image_context: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "pipeline": self.pipeline,
            "path": str(self.path),
            "image": self.image,
            "tasks": list(self.tasks),
            "edges": [list(edge) for edge in self.edges],
            "parameters": list(self.parameters),
            "image_context": str(self.image_context) if self.image_context else None,
        }


def export(
    pipeline: str | Path,
    to: str,
    output: str | Path,
    options: ExportOptions | None = None,
    image_context: str | Path | None = None,
) -> ExportResult:
    """Write ``pipeline`` (an extracted pipeline folder, or a notebook whose package is
    extracted) as a ``to`` (``kfp`` or ``airflow``) file at ``output``, atomically, and with
    ``image_context`` the Docker build context of the image its tasks run in
    (``deploy/package/pipeline_image.py``); nothing is written when a check fails."""
    from jupyter_mlops.artifacts.store import write_text_atomic
    from jupyter_mlops.export.steps import plan_export

    if to not in EXPORT_TARGETS:
        raise ExportError(
            f"unknown export target '{to}' (choose {' or '.join(EXPORT_TARGETS)})", name="--to"
        )
    options = (options or ExportOptions()).check()
    if to == "kfp" and options.operator != ExportOptions.operator:
        raise ExportError("--operator applies to --to airflow only", name="--operator")
    pipeline_file = _extracted_pipeline(pipeline)
    plan = plan_export(pipeline_file.pipeline, options, _step_resources(pipeline_file))
    text = _render(plan, to, options)
    out = Path(output)
    if out.is_dir():
        raise ExportError("the output is a folder; give the file to write", path=str(out))
    context = None
    if image_context is not None:
        from jupyter_mlops.deploy.package.pipeline_image import write_image_context

        context = write_image_context(
            pipeline_file, plan, options.pipeline_dir, Path(image_context), options.store
        ).folder
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(out, text)
    except OSError as error:
        raise FileSystemError.of(error, f"write the {to} export", out) from error
    return ExportResult(
        target=to,
        pipeline=plan.name,
        path=out,
        image=None if to == "airflow" and options.operator == "bash" else plan.image,
        tasks=[task.name for task in plan.tasks],
        edges=[(up, task.name) for task in plan.tasks for up in task.upstream],
        parameters=[parameter.name for parameter in plan.parameters],
        image_context=context,
    )


def _extracted_pipeline(target: str | Path) -> PipelineFile:
    from jupyter_mlops.pipeline.layout import resolve_target
    from jupyter_mlops.pipeline.pipeline_file import read_pipeline_file

    resolved = resolve_target(target)
    if resolved.notebook is not None and not resolved.extracted:
        raise ExportError(
            f"the notebook is not extracted into {resolved.folder}: run jupyter mlops extract "
            "first (the image runs the extracted package)",
            path=str(target),
        )
    return read_pipeline_file(resolved.folder)


def _step_resources(pipeline_file: PipelineFile) -> dict[str, dict[str, float]]:
    """Step → amounts: each step's ``--resources``, replaced by its entry in the
    ``resources:`` section of pipeline.yaml (errors name it)."""
    from jupyter_mlops.execute.executors.resources import pipeline_resources

    return pipeline_resources(
        pipeline_file.pipeline, pipeline_file.settings.get("resources"), str(pipeline_file.path)
    )


def _render(plan: ExportPlan, to: str, options: ExportOptions) -> str:
    if to == "kfp":
        from jupyter_mlops.export.kfp_spec import kfp_spec_text

        return kfp_spec_text(plan)
    from jupyter_mlops.export.airflow_dag import airflow_dag_file

    return airflow_dag_file(plan, options.operator)
