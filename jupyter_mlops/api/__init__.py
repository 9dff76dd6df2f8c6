"""The use cases, as plain functions returning plain results.

Every front end — the CLI, the server extension's REST API, the widgets and the magics —
parses its input, calls one of these and renders what comes back, so a use case behaves the
same whichever front end starts it. Heavy libraries are imported inside the functions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jupyter_mlops.api.deployment import (
    ServeOptions,
    abort_deploy,
    deploy,
    deploy_target,
    deployments,
    history,
    rollback,
    rollback_target,
    serve,
)
from jupyter_mlops.api.exporting import EXPORT_TARGETS, ExportOptions, ExportResult, export
from jupyter_mlops.api.live_runs import live_run, live_runs, pipeline_folder, settle_live_run
from jupyter_mlops.api.monitor_model import monitor
from jupyter_mlops.api.monitoring_overview import monitoring, monitoring_report
from jupyter_mlops.api.packaging import PackageOptions, PackageResult, package
from jupyter_mlops.api.plugin_deployments import (
    create_local_deployment,
    delete_local_deployment,
    get_local_deployment,
    list_local_deployments,
    predict_local_deployment,
    run_local_rest,
    update_local_deployment,
)
from jupyter_mlops.api.quality import (
    GeneratedTests,
    WorkflowWritten,
    capture_fixtures,
    check,
    ci_init,
    generated_tests,
    run_tests,
    write_schemas,
)
from jupyter_mlops.api.scoring import ScoreResult, score
from jupyter_mlops.api.triggers import TriggerOptions, TriggerResult, trigger
from jupyter_mlops.deploy.targets import STRATEGIES
from jupyter_mlops.errors import FileSystemError, MlopsError, PipelineError
from jupyter_mlops.execute.runner import RunOptions
from jupyter_mlops.pipeline.layout import Target, default_output_dir, resolve_target

if TYPE_CHECKING:
    from jupyter_mlops.artifacts.gc import Collection, StoreUsage
    from jupyter_mlops.execute.run_result import RunResult
    from jupyter_mlops.pipeline.model import Pipeline
    from jupyter_mlops.registry.promotion import Promotion

__all__ = [
    "EXPORT_TARGETS",
    "STRATEGIES",
    "ExportOptions",
    "ExportResult",
    "Extracted",
    "GeneratedTests",
    "PackageOptions",
    "PackageResult",
    "RunOptions",
    "ScoreResult",
    "ServeOptions",
    "Target",
    "TriggerOptions",
    "TriggerResult",
    "WorkflowWritten",
    "abort_deploy",
    "capture_fixtures",
    "check",
    "ci_init",
    "create_local_deployment",
    "default_output_dir",
    "delete_local_deployment",
    "deploy",
    "deploy_target",
    "deployments",
    "export",
    "extract",
    "gc",
    "generated_tests",
    "get_local_deployment",
    "history",
    "list_local_deployments",
    "live_run",
    "live_runs",
    "load_pipeline",
    "load_unsaved_pipeline",
    "model_names",
    "model_versions",
    "monitor",
    "monitoring",
    "monitoring_report",
    "package",
    "pipeline_folder",
    "pipeline_model_versions",
    "pipeline_name",
    "plan_run",
    "preload_executor",
    "predict_local_deployment",
    "promote",
    "recent_runs",
    "resolve_target",
    "rollback",
    "rollback_target",
    "run",
    "run_local_rest",
    "run_tests",
    "score",
    "serve",
    "settle_live_run",
    "store_usage",
    "tracking_uri_for",
    "trigger",
    "update_local_deployment",
    "write_schemas",
]


def load_pipeline(target: str | Path) -> Pipeline:
    """``show``: the pipeline model of a notebook (scanned) or of an extracted folder."""
    resolved = resolve_target(target)
    if resolved.notebook is None:
        from jupyter_mlops.pipeline.pipeline_file import read_pipeline

        return read_pipeline(resolved.folder)
    from jupyter_mlops.authoring.scan import scan_notebook

    return scan_notebook(resolved.notebook)


def pipeline_name(target: str | Path) -> str:
    """The pipeline's name (= its MLflow experiment and registered model) without a scan."""
    resolved = resolve_target(target)
    if resolved.notebook is None:
        return load_pipeline(resolved.folder).name
    from jupyter_mlops.authoring.scan import pipeline_name as name_of_notebook

    return name_of_notebook(resolved.notebook)


@dataclass
class Extracted:
    """What ``extract`` wrote: the folder, and the files written or removed."""

    pipeline: Pipeline
    folder: Path
    changed: list[Path] = field(default_factory=list)


def extract(
    notebook: str | Path, output: str | Path | None = None, pipeline: Pipeline | None = None
) -> Extracted:
    """Write the package of ``notebook`` (nothing when it has extraction errors);
    ``pipeline`` is its model when the caller has just scanned it."""
    from jupyter_mlops.extract.writer import write_package

    target = resolve_target(notebook, output)
    if target.notebook is None:
        raise PipelineError("expected a .ipynb notebook to extract", path=str(notebook))
    pipeline = pipeline or load_pipeline(target.notebook)
    try:
        return Extracted(pipeline, target.folder, write_package(pipeline, target.folder))
    except OSError as error:
        if error.filename is None:
            raise
        raise FileSystemError.of(error, "write the pipeline package", target.folder) from error


def load_unsaved_pipeline(path: str | Path, content: dict[str, Any]) -> Pipeline:
    """The pipeline model of notebook ``content`` (unsaved, e.g. from the editor) at ``path``."""
    from jupyter_mlops.authoring.notebook_file import NotebookSource, content_hash, parse_cells
    from jupyter_mlops.authoring.scan import build_pipeline

    cells = parse_cells(content, Path(path).name)
    return build_pipeline(NotebookSource(Path(path), cells, content_hash(cells)))


def preload_executor(name: str) -> None:
    """Start importing, in the background, what executor ``name`` needs (``run`` waits for
    it only if it is not done by the time the first step runs)."""
    from jupyter_mlops.execute.executors.base import preload_executor as preload

    preload(name)


def plan_run(target: str | Path, params: dict[str, Any] | None = None) -> tuple[Path, Pipeline]:
    """Check a run before it starts: the folder that will run and its model, once the
    extraction, the ``params`` and the ``gates:`` section are known to be valid."""
    from jupyter_mlops.pipeline.params import resolve_params

    resolved = resolve_target(target)
    pipeline = load_pipeline(target)
    resolve_params(pipeline.params, params or {})
    if resolved.extracted:
        _check_gates(resolved.folder)
    return resolved.folder, pipeline


def run(target: str | Path, options: RunOptions | None = None) -> RunResult:
    """Run a pipeline folder (a notebook is extracted first), then its after-run chain:
    schemas, MLflow records, registration, gates, fixtures."""
    from jupyter_mlops.deploy.link import add_deploy_link, check_deploy_section
    from jupyter_mlops.execute.runner import run_pipeline

    resolved = resolve_target(target)
    folder = extract(resolved.notebook).folder if resolved.notebook else resolved.folder
    check_deploy_section(folder)  # a malformed deploy: section stops the run before any step
    add_deploy_link()
    try:
        return run_pipeline(folder, options or RunOptions())  # refuses bad gates first
    except OSError as error:
        if error.filename is None:
            raise
        raise FileSystemError.of(error, "write a file of the run") from error


def _check_gates(folder: Path) -> None:
    """Stop on a malformed ``gates:`` section before any step runs."""
    from jupyter_mlops.pipeline.pipeline_file import read_pipeline_file
    from jupyter_mlops.quality.gates.config import read_gates

    read_gates(read_pipeline_file(folder))


def tracking_uri_for(target: str | Path, explicit: str | None = None) -> str:
    """The MLflow tracking URI runs of ``target`` use: ``explicit``, else
    ``$MLFLOW_TRACKING_URI``, else ``sqlite:///<project>/mlflow.db``."""
    from jupyter_mlops.tracking.gitinfo import project_root
    from jupyter_mlops.tracking.store import resolve_tracking_uri

    return resolve_tracking_uri(explicit, project_root(Path(target)))


def recent_runs(target: str | Path, pipeline: str, limit: int = 20) -> dict[str, Any]:
    """The latest runs of ``pipeline`` in the store runs of ``target`` record to."""
    from jupyter_mlops.tracking.history import recent_runs as latest

    return latest(tracking_uri_for(target), pipeline, limit)


def model_versions(
    target: str | Path, name: str, limit: int = 20, tracking_uri: str | None = None
) -> dict[str, Any]:
    """The versions of registered model ``name`` with aliases, metrics and gate tags (in
    ``tracking_uri``, default: the store runs of ``target`` use)."""
    from jupyter_mlops.registry.versions import list_model_versions, store_configured
    from jupyter_mlops.tracking.history import version_gates

    uri = tracking_uri_for(target, tracking_uri)
    models = _pipeline_models(target, name)
    if not store_configured(uri):
        return {"name": name, "aliases": {}, "versions": [], **models}
    versions = [info.to_json() for info in list_model_versions(uri, name, limit)]
    gates = version_gates(uri, name)
    for version in versions:
        version["gates"] = gates.get(version["version"], {})
    aliases = {alias: v["version"] for v in versions for alias in v["aliases"]}
    aliases = dict(sorted(aliases.items()))
    return {"name": name, "aliases": aliases, "versions": versions, **models}


def _pipeline_models(target: str | Path, name: str) -> dict[str, Any]:
    """``{"models": [...], "step": ...}``: the registered models of the pipeline at
    ``target``, which a front end then asks for one by one, and the ``--model`` step that
    registers ``name`` (None: none of them); {} when ``target`` is no pipeline with a model."""
    try:
        names = model_names(target)
    except MlopsError:
        return {}
    step = next((s for s, found in names.items() if found == name), None)
    return {"models": list(names.values()), "step": step} if names else {}


def model_names(target: str | Path | Pipeline) -> dict[str, str]:
    """``--model`` step → the registered model its runs register (``model_names.py``), of
    a notebook, a pipeline folder or a pipeline model."""
    from jupyter_mlops.pipeline.model import Pipeline
    from jupyter_mlops.pipeline.model_names import model_names as names_of

    return names_of(target if isinstance(target, Pipeline) else load_pipeline(target))


def pipeline_model_versions(
    target: str | Path, limit: int = 20, tracking_uri: str | None = None
) -> dict[str, Any]:
    """Every registered model of the pipeline of ``target``, in notebook order:
    ``{"models": [{"step", "name", "aliases", "versions"}, ...]}``."""
    models = []
    for step, name in model_names(target).items():
        models.append({"step": step, **model_versions(target, name, limit, tracking_uri)})
    return {"models": models}


def promote(
    target: str,
    version: str | None = None,
    alias: str = "champion",
    force: bool = False,
    tracking_uri: str | None = None,
    model: str | None = None,
) -> Promotion:
    """Move ``alias`` of the model of ``target`` (folder, notebook or model name; ``model``
    names one of a pipeline's models) to ``version`` (default: the challenger); a rejected
    version only with ``force``."""
    from jupyter_mlops.registry.promotion import promote as move_alias
    from jupyter_mlops.registry.promotion import resolve_model

    name, uri = resolve_model(target, tracking_uri, model)
    return move_alias(uri, name, version=version, alias=alias, force=force)


def gc(target: str | Path, keep_runs: int | None = None, dry_run: bool = False) -> Collection:
    """``gc``: remove the objects of a pipeline's artifact store that no kept cache entry
    and no record a run still owes references (``keep_runs``: each step's latest results)."""
    from jupyter_mlops.artifacts.gc import collect_garbage
    from jupyter_mlops.pipeline.pipeline_file import read_pipeline_file

    folder = read_pipeline_file(resolve_target(target).folder).folder
    return collect_garbage(folder, keep_runs, dry_run)


def store_usage(target: str | Path) -> StoreUsage | None:
    """The size of the artifact store of a pipeline folder (or of a notebook's pipeline
    folder); None when that folder has not been extracted."""
    from jupyter_mlops.artifacts.gc import store_usage as usage_of
    from jupyter_mlops.artifacts.store import ArtifactStore

    resolved = resolve_target(target)
    return usage_of(ArtifactStore.for_pipeline(resolved.folder)) if resolved.extracted else None
