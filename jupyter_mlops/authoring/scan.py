"""Notebook → pipeline model, without a kernel: classify cells, then infer dependencies."""

from __future__ import annotations

import re
from pathlib import Path

from jupyter_mlops.authoring.cells import classify_cells
from jupyter_mlops.authoring.dependencies import resolve_dependencies
from jupyter_mlops.authoring.ipython_syntax import step_syntax_error
from jupyter_mlops.authoring.notebook_file import NotebookSource, read_notebook
from jupyter_mlops.errors import DependencyError, DuplicateModelName, ExtractionErrors
from jupyter_mlops.pipeline.graph import find_cycle
from jupyter_mlops.pipeline.model import Pipeline
from jupyter_mlops.pipeline.model_names import model_names


def scan_notebook(path: str | Path) -> Pipeline:
    """Read a notebook and build its pipeline; ExtractionErrors lists every problem found."""
    return build_pipeline(read_notebook(path))


def pipeline_name(notebook: Path) -> str:
    """The pipeline (and package) name for a notebook: its stem as a lower-case identifier."""
    name = re.sub(r"\W+", "_", notebook.stem).strip("_").lower() or "pipeline"
    return f"p_{name}" if name[0].isdigit() else name


def build_pipeline(source: NotebookSource) -> Pipeline:
    """The pipeline of an already read notebook."""
    parts, errors = classify_cells(source.cells)
    resolution = resolve_dependencies(parts)
    errors += resolution.errors
    if not errors:
        cycle = find_cycle({step.name: step.upstream() for step in resolution.steps})
        if cycle:
            first = next(s for s in resolution.steps if s.name == cycle[0])
            errors.append(
                DependencyError(
                    "explicit --inputs make a dependency cycle: " + " → ".join(cycle),
                    cell=first.cell,
                    step=first.name,
                )
            )
    if not errors:  # a step must become a plain function: show refuses what extract would
        errors = [e for e in map(step_syntax_error, resolution.steps) if e is not None]
    if errors:
        errors.sort(key=lambda error: error.cell or 0)
        raise ExtractionErrors(errors, path=str(source.path))
    pipeline = Pipeline(
        name=pipeline_name(source.path),
        notebook=str(source.path),
        notebook_hash=source.content_hash,
        params=resolution.params,
        params_cell=resolution.params_cell,
        setup_code=resolution.setup_code,
        setup_names=resolution.setup_names,
        steps=resolution.steps,
        left_out=resolution.left_out,
        warnings=resolution.warnings,
    )
    try:
        model_names(pipeline)  # two --model steps registering one name are refused here
    except DuplicateModelName as error:
        error.cell = pipeline.step(str(error.step)).cell
        raise ExtractionErrors([error], path=str(source.path)) from None
    return pipeline
