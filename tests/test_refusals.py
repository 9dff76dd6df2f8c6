"""Refusals that protect the notebook's results and name their cause (issue 9).

An unmarked cell changing a step's variable before another step reads it would make the
pipeline compute something else than the notebook: refused. A cell that is not setup code
because of a few lines is named once, with those lines. A malformed file is named as not a
valid notebook.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from nbfactory import write_notebook

from jupyter_mlops.authoring.scan import scan_notebook
from jupyter_mlops.errors import ExtractionErrors, NotebookError

NOTEBOOKS = Path(__file__).parent / "notebooks"
REASSIGN = NOTEBOOKS / "refuse_left_out_reassign.ipynb"
PRINT_DOC = NOTEBOOKS / "refuse_setup_print_doc.ipynb"

REASSIGN_ERROR = (
    "cell 6: changes 'values' between step 'load' (cell 4), which writes it, and step "
    "'score' (cell 7), which reads it, but is not a step: the pipeline would give step "
    "'score' the value step 'load' wrote, not the one the notebook computes. Mark cell 6 "
    "with %%mlstep NAME, or move it below the steps that read 'values'"
)
PRINT_DOC_ERROR = (
    "cell 2: not setup code because of line 11 (`print(__doc__)`): setup cells hold only "
    "imports, definitions and literal constants — move that line to its own cell. Steps "
    "'load' (cell 3) and 'summary' (cell 4) read 'Random', 'SEED' and 'statistics', which "
    "this cell defines"
)


def errors_of(path: Path) -> list[str]:
    with pytest.raises(ExtractionErrors) as caught:
        scan_notebook(path)
    return [str(e) for e in caught.value.errors]


def cli(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jupyter_mlops.cli", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
    )


# --- a left-out cell changing a step's variable ----------------------------------------


def test_left_out_reassignment_between_writer_and_reader_is_refused() -> None:
    with pytest.raises(ExtractionErrors) as caught:
        scan_notebook(REASSIGN)
    [error] = caught.value.errors
    assert str(error) == REASSIGN_ERROR
    assert (error.cell, error.name, error.exit_code) == (6, "values", 2)


def test_left_out_reassignment_is_refused_by_the_cli_and_nothing_is_written(
    tmp_path: Path,
) -> None:
    out = tmp_path / "pipeline"
    for command in (["show", REASSIGN], ["extract", REASSIGN, "-o", out]):
        result = cli(*command)
        assert result.returncode == 2, result.stderr
        assert result.stdout == ""
        assert result.stderr.splitlines() == [f"error: {REASSIGN}: {REASSIGN_ERROR}"]
    assert not out.exists()


@pytest.mark.parametrize(
    "change",
    ["x.append(4)", "x += [4]", "x = sorted(x)", "x.sort()", "x[0] = 9", "del x[0]"],
)
def test_every_kind_of_change_is_refused(tmp_path: Path, change: str) -> None:
    path = write_notebook(
        tmp_path / "nb.ipynb", ["%%mlstep a\nx = [3, 1]", change, "%%mlstep b\ny = sum(x)"]
    )
    [error] = errors_of(path)
    assert error.startswith("cell 2: changes 'x' between step 'a' (cell 1), which writes it, ")
    assert "step 'b' (cell 3), which reads it" in error


def test_one_refusal_per_cell_and_name_even_with_several_readers(tmp_path: Path) -> None:
    path = write_notebook(
        tmp_path / "nb.ipynb",
        ["%%mlstep a\nx = 1", "x = x + 1", "%%mlstep b\ny = x", "%%mlstep c\nz = x"],
    )
    assert len(errors_of(path)) == 1


@pytest.mark.parametrize(
    "cells",
    [
        # Reading only: printing, describing, plotting, a result left unassigned.
        ["%%mlstep a\nx = [3, 1]", "print(x)\nsorted(x)\nlen(x)", "%%mlstep b\ny = sum(x)"],
        # The change comes after every step that reads x.
        ["%%mlstep a\nx = [3, 1]", "%%mlstep b\ny = sum(x)", "x = list()"],
        # A step writes x again after the change: later steps read that step's value.
        ["%%mlstep a\nx = [3, 1]", "x = list()", "%%mlstep b\nx = [5]", "%%mlstep c\ny = sum(x)"],
        # A name no step wrote: the left-out cell's own variables.
        ["%%mlstep a\nx = [3, 1]", "top = max(x)\nfig = None", "%%mlstep b\ny = sum(x)"],
    ],
)
def test_cells_that_do_not_change_what_a_step_reads_are_fine(
    tmp_path: Path, cells: list[str]
) -> None:
    pipeline = scan_notebook(write_notebook(tmp_path / "nb.ipynb", cells))
    assert pipeline.warnings == []


def test_marking_the_cell_as_a_step_is_the_fix(tmp_path: Path) -> None:
    document = json.loads(REASSIGN.read_text())
    document["cells"][5]["source"] = ["%%mlstep keep_large\n", *document["cells"][5]["source"]]
    path = tmp_path / "fixed.ipynb"
    path.write_text(json.dumps(document))
    score = scan_notebook(path).steps[-1]
    assert score.inputs == {"values": "keep_large"}


# --- a cell that is not setup code because of a few lines ------------------------------


def test_setup_cell_with_print_doc_is_one_error_naming_the_line() -> None:
    with pytest.raises(ExtractionErrors) as caught:
        scan_notebook(PRINT_DOC)
    [error] = caught.value.errors
    assert str(error) == PRINT_DOC_ERROR
    assert (error.cell, error.name, error.step) == (2, "Random", None)


def test_print_doc_refusal_through_the_cli(tmp_path: Path) -> None:
    out = tmp_path / "pipeline"
    result = cli("extract", PRINT_DOC, "-o", out)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [f"error: {PRINT_DOC}: {PRINT_DOC_ERROR}"]
    assert not out.exists()


def test_moving_the_line_to_its_own_cell_is_the_fix(tmp_path: Path) -> None:
    document = json.loads(PRINT_DOC.read_text())
    setup = "".join(document["cells"][1]["source"])
    document["cells"][1]["source"] = setup.replace("print(__doc__)\n", "")
    document["cells"].insert(2, dict(document["cells"][1], id="doc", source="print(__doc__)"))
    path = tmp_path / "fixed.ipynb"
    path.write_text(json.dumps(document))
    pipeline = scan_notebook(path)
    assert [step.name for step in pipeline.steps] == ["load", "summary"]
    assert pipeline.left_out == [3]


def test_several_disqualifying_lines_are_listed_with_magics_not_counted(tmp_path: Path) -> None:
    setup = (
        "%matplotlib inline\nimport math\nprint(__doc__)\nPI = math.pi\nSEED = 1\n"
        "plt_show = print('x')\nshow()\nshow()\nshow()"
    )
    path = write_notebook(tmp_path / "nb.ipynb", [setup, "%%mlstep a\ny = math.sqrt(SEED)"])
    assert errors_of(path) == [
        "cell 1: not setup code because of lines 3 (`print(__doc__)`), 4 (`PI = math.pi`), "
        "6 (`plt_show = print('x')`) and 3 more: setup cells hold only imports, definitions "
        "and literal constants — move those lines to a cell of their own. Step 'a' (cell 2) "
        "reads 'math' and 'SEED', which this cell defines"
    ]


def test_a_name_only_a_disqualifying_line_defines_keeps_its_own_message(tmp_path: Path) -> None:
    path = write_notebook(
        tmp_path / "nb.ipynb", ["import os\nbase = os.getcwd()", "%%mlstep a\np = base + '/x'"]
    )
    [error] = errors_of(path)
    assert error.startswith(
        "cell 2, step 'a': reads 'base', which no earlier step, parameter or setup code defines "
        "(only cell 1, which is not a step, defines it"
    )


def test_setup_function_reading_a_name_of_such_a_cell(tmp_path: Path) -> None:
    path = write_notebook(
        tmp_path / "nb.ipynb",
        [
            "import math\nprint(__doc__)",
            "def root(v):\n    return math.sqrt(v)",
            "%%mlstep a\ny = root(4)",
        ],
    )
    assert errors_of(path) == [
        "cell 1: not setup code because of line 2 (`print(__doc__)`): setup cells hold only "
        "imports, definitions and literal constants — move that line to its own cell. Step "
        "'a' (cell 3) reads 'math', which this cell defines"
    ]


# --- a file that is not a notebook -----------------------------------------------------


def test_malformed_file_is_named_as_not_a_valid_notebook(tmp_path: Path) -> None:
    path = tmp_path / "broken.ipynb"
    path.write_text('{"cells": [}')
    with pytest.raises(NotebookError) as caught:
        scan_notebook(path)
    assert str(caught.value) == (
        f"{path}: not a valid notebook: an .ipynb file is JSON, and this file is not valid "
        "JSON (line 1, column 12: Expecting value)"
    )
    result = cli("show", path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [f"error: {caught.value}"]
