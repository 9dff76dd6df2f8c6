"""What each endpoint of the server extension does, as plain functions (no tornado).

``handlers.py`` checks the request and confines paths to the server root, then calls these
in a worker thread. Known problems are MlopsErrors; the JSON shapes are in docs/rest-api.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jupyter_mlops import api
from jupyter_mlops.errors import ExtractionErrors, MlopsError
from jupyter_mlops.pipeline.model import Pipeline
from jupyter_mlops.pipeline.params import param_type, resolve_params


def error_json(error: MlopsError) -> dict[str, Any]:
    """One extraction problem as the panel shows it on a cell."""
    return {"cell": error.cell, "step": error.step, "name": error.name, "message": error.message}


def extraction_errors(errors: ExtractionErrors) -> list[dict[str, Any]]:
    """Every problem of an ExtractionErrors, in cell order."""
    return [error_json(error) for error in errors.errors]


def with_param_types(shown: dict[str, Any]) -> dict[str, Any]:
    """``show --json`` with ``param_types``: each parameter's type (``param_type``), which
    JSON loses for a float default such as ``1.0``."""
    return {**shown, "param_types": {n: param_type(v) for n, v in shown["params"].items()}}


def pipeline_or_errors(path: Path) -> dict[str, Any]:
    """``GET pipeline``: ``show --json`` of a notebook or pipeline folder, or its errors."""
    try:
        shown = with_param_types(api.load_pipeline(path).to_json())
    except ExtractionErrors as errors:
        return {"errors": extraction_errors(errors)}
    store = api.store_usage(path)
    return shown if store is None else {**shown, "store": store.to_json()}


def content_pipeline_or_errors(path: Path, content: dict[str, Any]) -> dict[str, Any]:
    """``POST pipeline``: the same for notebook ``content`` (unsaved) named ``path``."""
    try:
        return with_param_types(api.load_unsaved_pipeline(path, content).to_json())
    except ExtractionErrors as errors:
        return {"errors": extraction_errors(errors)}


def extract(notebook: Path, out_dir: Path | None) -> dict[str, Any]:
    """``POST extract``: write the package (folder and changed files as absolute paths)."""
    done = api.extract(notebook, out_dir)
    return {
        "pipeline": done.pipeline.name,
        "folder": done.folder,
        "steps": [step.name for step in done.pipeline.steps],
        "changed": done.changed,
        "warnings": list(done.pipeline.warnings),
    }


def run_plan(target: Path, params: dict[str, Any]) -> tuple[Path, Pipeline, dict[str, Any]]:
    """``POST run``: (the pipeline folder that will run, its model, every parameter's value
    in the run: the defaults with ``params`` applied) for a notebook or folder, once its
    extraction and the ``params`` given are known to be valid."""
    folder, pipeline = api.plan_run(target, params)
    return folder, pipeline, resolve_params(pipeline.params, params)


def pipeline_name_of(path: Path) -> str:
    """The pipeline name (= MLflow experiment) of a notebook or pipeline folder."""
    return api.pipeline_name(path)


def runs_of(path: Path, name: str, limit: int) -> dict[str, Any]:
    """``GET runs``: recent runs of pipeline ``name`` in the store runs of ``path`` use."""
    return api.recent_runs(path, name, limit)


def models_of(path: Path, name: str, limit: int) -> dict[str, Any]:
    """``GET models/<name>``: versions with aliases, metrics and gate tags."""
    return api.model_versions(path, name, limit)


def promote(path: Path, name: str, version: str | None, alias: str, force: bool) -> dict[str, Any]:
    """``POST models/<name>/promote``: move ``alias`` of model ``name`` (in the store runs of
    ``path`` use) to ``version``; what moved, with the version's gate outcome and reason."""
    done = api.promote(name, version, alias, force, api.tracking_uri_for(path), model=name)
    outcome = {"validated": "passed", "rejected": "failed"}.get(done.gate or "", "none")
    return {
        "name": done.name,
        "alias": done.alias,
        "version": done.version,
        "previous": done.previous,
        "forced": done.forced,
        "gate": {"outcome": outcome, "reason": done.gate_reasons},
        "message": done.describe(),
    }
