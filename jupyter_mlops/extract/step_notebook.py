"""The generated step notebook: papermill parameters, load inputs, call the step, save outputs."""

from __future__ import annotations

import json
import math
from typing import Any

from jupyter_mlops.pipeline.model import Pipeline, Step

NOTEBOOK_KEY = "jupyter_mlops"
_NOTEBOOK_NAMES = frozenset({"input_paths", "output_dir", "load_input", "save_outputs"})


def step_notebook(pipeline: Pipeline, step: Step, package: str) -> str:
    """``notebooks/<step>.ipynb``: a papermill-parameterized notebook running the step."""
    args = step.arguments()
    taken = {*args, *step.outputs, *_NOTEBOOK_NAMES}
    call = "run_step" if step.name in taken else step.name
    alias = f" as {call}" if call != step.name else ""
    io_names = "load_input, save_outputs" if step.inputs else "save_outputs"
    parameters = [f"{p} = {literal(pipeline.params.get(p))}" for p in sorted(step.params)]
    parameters += [
        "# variable -> artifact path of each input, filled in by `jupyter mlops run`",
        "input_paths = {}",
        'output_dir = "outputs"',
    ]
    result = ", ".join(step.outputs) + " = " if step.outputs else ""
    keywords = ", ".join(f"{a}={a}" for a in args)
    saved = ", ".join(f'"{o}": {o}' for o in step.outputs)
    sources = [
        ("parameters", parameters),
        (
            "imports",
            [
                f"from jupyter_mlops.runtime import {io_names}",
                f"from {package}.{step.name} import {step.name}{alias}",
            ],
        ),
        ("load-inputs", [f'{v} = load_input(input_paths["{v}"])' for v in sorted(step.inputs)]),
        ("run-step", [f"{result}{call}({keywords})"]),
        ("save-outputs", [f"save_outputs(output_dir, {{{saved}}})"]),
    ]
    cells = [_code_cell(cell_id, lines) for cell_id, lines in sources if lines]
    cells[0]["metadata"] = {"tags": ["parameters"]}
    meta = {"generated": True, "pipeline": pipeline.name, "step": step.name}
    return notebook_text(
        {
            "cells": cells,
            "metadata": {
                "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                "language_info": {"name": "python"},
                NOTEBOOK_KEY: meta,
            },
            "nbformat": 4,
            "nbformat_minor": 5,
        }
    )


def notebook_text(nb: dict[str, Any]) -> str:
    """The canonical JSON text of a generated notebook."""
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def source_lines(text: str) -> list[str]:
    """A cell source as nbformat stores it: lines keeping their newline, last without."""
    return text.rstrip("\n").splitlines(keepends=True)


def _code_cell(cell_id: str, lines: list[str]) -> dict[str, Any]:
    return {
        "cell_type": "code",
        "execution_count": None,
        "id": cell_id,
        "metadata": {},
        "outputs": [],
        "source": source_lines("\n".join(lines)),
    }


def literal(value: Any) -> str:
    """Python source for a literal parameter default."""
    if isinstance(value, float) and not math.isfinite(value):
        return f'float("{value}")'
    return repr(value)
