"""What each endpoint of the server extension does, as plain functions (no tornado).

``handlers.py`` checks the request and confines paths to the server root, then calls these
in a worker thread. Known problems are MlopsErrors; the JSON shapes are README's "REST API".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jupyter_mlops.errors import ExtractionErrors, MlopsError
from jupyter_mlops.pipeline.model import Pipeline


def error_json(error: MlopsError) -> dict[str, Any]:
    """One extraction problem as the panel shows it on a cell."""
    return {"cell": error.cell, "step": error.step, "name": error.name, "message": error.message}


def extraction_errors(errors: ExtractionErrors) -> list[dict[str, Any]]:
    """Every problem of an ExtractionErrors, in cell order."""
    return [error_json(error) for error in errors.errors]


def pipeline_or_errors(path: Path) -> dict[str, Any]:
    """``GET pipeline``: ``show --json`` of a notebook or pipeline folder, or its errors."""
    from jupyter_mlops.cli.main import load_target

    try:
        return dict(load_target(str(path)).to_json())
    except ExtractionErrors as errors:
        return {"errors": extraction_errors(errors)}


def content_pipeline_or_errors(path: Path, content: dict[str, Any]) -> dict[str, Any]:
    """``POST pipeline``: the same for notebook ``content`` (unsaved) named ``path``."""
    from jupyter_mlops.authoring.notebook_file import NotebookSource, content_hash, parse_cells
    from jupyter_mlops.authoring.scan import build_pipeline

    cells = parse_cells(content, path.name)
    try:
        return build_pipeline(NotebookSource(path, cells, content_hash(cells))).to_json()
    except ExtractionErrors as errors:
        return {"errors": extraction_errors(errors)}


def extract(notebook: Path, out_dir: Path | None) -> dict[str, Any]:
    """``POST extract``: write the package (folder and changed files as absolute paths)."""
    from jupyter_mlops.authoring.scan import scan_notebook
    from jupyter_mlops.extract.writer import default_output_dir, write_package

    pipeline = scan_notebook(notebook)
    folder = out_dir or default_output_dir(notebook)
    changed = write_package(pipeline, folder)
    return {
        "pipeline": pipeline.name,
        "folder": folder,
        "steps": [step.name for step in pipeline.steps],
        "changed": changed,
        "warnings": list(pipeline.warnings),
    }


def run_plan(target: Path, params: dict[str, Any]) -> tuple[Path, Pipeline]:
    """``POST run``: (the pipeline folder that will run, its model) for a notebook or
    folder, once its extraction and the ``params`` given are known to be valid."""
    from jupyter_mlops.authoring.scan import scan_notebook
    from jupyter_mlops.extract.writer import default_output_dir
    from jupyter_mlops.pipeline.params import resolve_params
    from jupyter_mlops.pipeline.pipeline_file import read_pipeline

    if target.is_dir():
        folder, pipeline = target, read_pipeline(target)
    elif target.suffix == ".ipynb":
        folder, pipeline = default_output_dir(target), scan_notebook(target)
    else:
        raise MlopsError("expected a pipeline folder or a .ipynb notebook", path=str(target))
    resolve_params(pipeline.params, params)
    return folder, pipeline


def pipeline_name_of(path: Path) -> str:
    """The pipeline name (= MLflow experiment) of a notebook or pipeline folder."""
    from jupyter_mlops.authoring.scan import pipeline_name
    from jupyter_mlops.pipeline.pipeline_file import read_pipeline

    return read_pipeline(path).name if path.is_dir() else pipeline_name(path)


def runs_of(path: Path, name: str, limit: int) -> dict[str, Any]:
    """``GET runs``: recent runs of pipeline ``name`` in the store runs of ``path`` use."""
    from jupyter_mlops.tracking.history import recent_runs, tracking_uri_for

    return recent_runs(tracking_uri_for(path), name, limit)


def models_of(path: Path, name: str, limit: int) -> dict[str, Any]:
    """``GET models/<name>``: versions with aliases, metrics and gate tags."""
    from jupyter_mlops.registry.versions import list_model_versions, store_configured
    from jupyter_mlops.tracking.history import tracking_uri_for, version_gates

    uri = tracking_uri_for(path)
    if not store_configured(uri):
        return {"name": name, "aliases": {}, "versions": []}
    versions = [info.to_json() for info in list_model_versions(uri, name, limit)]
    gates = version_gates(uri, name)
    for version in versions:
        version["gates"] = gates.get(version["version"], {})
    aliases = {alias: v["version"] for v in versions for alias in v["aliases"]}
    return {"name": name, "aliases": dict(sorted(aliases.items())), "versions": versions}
