"""Notebook → pipeline model: cell classification, dependency rules and every refusal."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from nbfactory import write_notebook

from jupyter_mlops.authoring.scan import scan_notebook
from jupyter_mlops.errors import ExtractionErrors, NotebookError

SETUP = "import pandas as pd\nSEED = 7\n\ndef scaled(v):\n    return v * factor + SEED\n"
PARAMS = ("factor = 2\nrows = 5", ["parameters"])


def scan(tmp_path: Path, cells: list) -> dict:
    return scan_notebook(write_notebook(tmp_path / "nb.ipynb", cells)).to_json()


def errors_of(tmp_path: Path, cells: list) -> list[str]:
    with pytest.raises(ExtractionErrors) as caught:
        scan_notebook(write_notebook(tmp_path / "nb.ipynb", cells))
    return [str(e) for e in caught.value.errors]


def steps_by_name(model: dict) -> dict:
    return {s["name"]: s for s in model["steps"]}


def test_classification_and_show_shape(tmp_path: Path) -> None:
    model = scan(
        tmp_path,
        [
            "# md:# Title",
            "%load_ext jupyter_mlops",
            SETUP,
            PARAMS,
            "%%mlstep load\ndf = pd.DataFrame({'a': range(rows)})",
            "df.describe()",
            "%%mlstep train --model model\nmodel = df['a'].sum()",
        ],
    )
    assert model == {
        "name": "nb",
        "params": {"factor": 2, "rows": 5},
        "steps": [
            {"name": "load", "cell": 5, "inputs": {}, "outputs": ["df"], "params": ["rows"]},
            {
                "name": "train",
                "cell": 7,
                "inputs": {"df": "load"},
                "outputs": ["model"],
                "params": [],
            },
        ],
    }


def test_left_out_and_setup_cells_are_reported(tmp_path: Path) -> None:
    pipeline = scan_notebook(
        write_notebook(
            tmp_path / "nb.ipynb",
            [SETUP, PARAMS, "%%mlstep a\nx = 1", "print(x)\ny = 2", "%%mlstep b\nz = x"],
        )
    )
    assert pipeline.left_out == [4]
    assert [cell for cell, _ in pipeline.setup_code] == [1]
    assert set(pipeline.setup_names) == {"pd", "SEED", "scaled"}
    assert pipeline.params_cell == 2


def test_input_comes_from_the_most_recent_writer(tmp_path: Path) -> None:
    model = scan(
        tmp_path,
        ["%%mlstep a\nx = 1", "%%mlstep b\nx = x + 1", "%%mlstep c\ny = x * 2"],
    )
    steps = steps_by_name(model)
    assert steps["b"]["inputs"] == {"x": "a"}
    assert steps["c"]["inputs"] == {"x": "b"}
    assert steps["a"]["outputs"] == ["x"] and steps["b"]["outputs"] == ["x"]


def test_mutation_makes_the_mutating_step_the_producer(tmp_path: Path) -> None:
    model = scan(
        tmp_path,
        [
            "%%mlstep load\ndata = {'a': 1}\nitems = []",
            "%%mlstep enrich\ndata['b'] = 2\nitems.append(3)",
            "%%mlstep use\ntotal = len(data) + len(items)",
        ],
    )
    steps = steps_by_name(model)
    assert steps["enrich"]["inputs"] == {"data": "load", "items": "load"}
    assert steps["enrich"]["outputs"] == ["data", "items"]
    assert steps["use"]["inputs"] == {"data": "enrich", "items": "enrich"}


def test_setup_function_reading_a_parameter_makes_the_caller_depend_on_it(
    tmp_path: Path,
) -> None:
    pipeline = scan_notebook(
        write_notebook(
            tmp_path / "nb.ipynb",
            [SETUP, PARAMS, "%%mlstep a\nv = scaled(3)", "%%mlstep b\nw = v + 1"],
        )
    )
    a, b = pipeline.steps
    assert a.params == ["factor"]
    assert a.setup_params == ["factor"]
    assert a.setup == ["SEED", "scaled"]
    assert b.params == [] and b.setup == []


def test_setup_function_reading_a_step_output_is_refused(tmp_path: Path) -> None:
    errors = errors_of(
        tmp_path,
        [
            "def peek():\n    return frame.shape",
            "%%mlstep a\nframe = 1",
            "%%mlstep b\nshape = peek()",
        ],
    )
    assert errors == [
        "cell 3, step 'b': setup function 'peek' (cell 1) reads the global 'frame', but step "
        "'a' writes it; pass it to 'peek' as an argument"
    ]


def test_parameter_read_directly_and_shadowed_by_a_step(tmp_path: Path) -> None:
    model = scan(
        tmp_path,
        [PARAMS, "%%mlstep a\nn = rows * 2", "%%mlstep b\nrows = 3", "%%mlstep c\nm = rows"],
    )
    steps = steps_by_name(model)
    assert steps["a"]["params"] == ["rows"]
    assert steps["c"]["inputs"] == {"rows": "b"} and steps["c"]["params"] == []


def test_imports_inside_steps_are_not_data(tmp_path: Path) -> None:
    pipeline = scan_notebook(
        write_notebook(
            tmp_path / "nb.ipynb",
            ["%%mlstep a\nimport math\nx = math.pi", "%%mlstep b\ny = math.floor(x)"],
        )
    )
    a, b = pipeline.steps
    assert a.outputs == ["x"]
    assert b.inputs == {"x": "a"}
    assert b.imports == ["import math"]


def test_module_attribute_changes_are_not_outputs(tmp_path: Path) -> None:
    model = scan(
        tmp_path,
        ["import pandas as pd", "%%mlstep a\npd.options.display.max_rows = 5\nx = 1"],
    )
    assert steps_by_name(model)["a"]["outputs"] == ["x"]  # x: a sink step's result; pd: none


def test_del_then_read_is_refused(tmp_path: Path) -> None:
    errors = errors_of(tmp_path, ["%%mlstep a\nx = 1", "%%mlstep b\ndel x", "%%mlstep c\ny = x"])
    assert errors == [
        "cell 3, step 'c': reads 'x', which no earlier step, parameter or setup code defines "
        "(step 'b' in cell 2 deletes it with del)"
    ]


def test_comprehension_and_lambda_reads(tmp_path: Path) -> None:
    model = scan(
        tmp_path,
        [
            "%%mlstep a\nxs = [1, 2]\nk = 3",
            "%%mlstep b\nys = [x * k for x in xs]\nf = lambda v: v + k",
        ],
    )
    assert steps_by_name(model)["b"]["inputs"] == {"k": "a", "xs": "a"}


def test_global_in_a_step_function_writes_the_name(tmp_path: Path) -> None:
    model = scan(
        tmp_path,
        [
            "%%mlstep a\ncount = 0",
            "%%mlstep b\ndef bump():\n    global count\n    count += 1\nbump()",
            "%%mlstep c\nseen = count",
        ],
    )
    steps = steps_by_name(model)
    assert steps["b"]["inputs"] == {"count": "a"}
    assert steps["c"]["inputs"] == {"count": "b"}


def test_explicit_inputs_and_outputs_win(tmp_path: Path) -> None:
    model = scan(
        tmp_path,
        [
            "%%mlstep a --outputs hidden\nexec('hidden = 1')",
            "%%mlstep b --inputs hidden\nvalue = eval('hidden') + 1",
        ],
    )
    steps = steps_by_name(model)
    assert steps["a"]["outputs"] == ["hidden"]
    assert steps["b"]["inputs"] == {"hidden": "a"}


def test_display_is_an_implicit_import(tmp_path: Path) -> None:
    pipeline = scan_notebook(write_notebook(tmp_path / "nb.ipynb", ["%%mlstep a\ndisplay(1)"]))
    assert pipeline.steps[0].imports == ["from IPython.display import display"]


def test_left_out_cell_changing_a_step_output_is_refused(tmp_path: Path) -> None:
    errors = errors_of(tmp_path, ["%%mlstep a\nx = 1", "x = x + 100", "%%mlstep b\ny = x"])
    assert errors == [
        "cell 2: changes 'x' between step 'a' (cell 1), which writes it, and step 'b' (cell 3), "
        "which reads it, but is not a step: the pipeline would give step 'b' the value step 'a' "
        "wrote, not the one the notebook computes. Mark cell 2 with %%mlstep NAME, or move it "
        "below the steps that read 'x'"
    ]


# --- refusals -------------------------------------------------------------------------


def test_duplicate_step_names(tmp_path: Path) -> None:
    assert errors_of(tmp_path, ["%%mlstep a\nx = 1", "%%mlstep a\ny = 2"]) == [
        "cell 2, step 'a': step name 'a' is already used by cell 1"
    ]


@pytest.mark.parametrize(
    "line, message",
    [
        ("%%mlstep 2fast", "cell 1: step name '2fast' is not a valid Python identifier"),
        ("%%mlstep class", "cell 1: step name 'class' is not a valid Python identifier"),
        (
            "%%mlstep \ufb01t",  # the ligature "fi": Python reads the name as "fit"
            "cell 1: step name '\ufb01t' is read by Python as 'fit' (NFKC normalization): "
            "write 'fit'",
        ),
        ("%%mlstep a --inputs \ufb01t", "cell 1: --inputs variable '\ufb01t' is read by Python"),
        ("%%mlstep", "cell 1: a step needs a name: %%mlstep NAME"),
        ("%%mlstep a --bogus", "cell 1, step 'a': unknown option '--bogus'"),
        ("%%mlstep a --model", "cell 1, step 'a': option --model needs a variable name"),
        ("%%mlstep a --inputs x-y", "cell 1: --inputs variable 'x-y' is not a valid"),
        ("%%mlstep a --model m", "cell 1, step 'a': --model names 'm', but the step does not"),
    ],
)
def test_bad_step_lines(tmp_path: Path, line: str, message: str) -> None:
    errors = errors_of(tmp_path, [line + "\nx = 1"])
    assert len(errors) == 1
    assert errors[0].startswith(message)


def test_undefined_name(tmp_path: Path) -> None:
    assert errors_of(tmp_path, ["%%mlstep a\ny = nowhere + 1"]) == [
        "cell 1, step 'a': reads 'nowhere', which no earlier step, parameter or setup code defines"
    ]


def test_name_only_a_left_out_cell_defines(tmp_path: Path) -> None:
    errors = errors_of(tmp_path, ["import os\nbase = os.getcwd()", "%%mlstep a\np = base + '/x'"])
    assert errors[0].startswith(
        "cell 2, step 'a': reads 'base', which no earlier step, parameter or setup code defines "
        "(only cell 1, which is not a step, defines it"
    )


def test_name_defined_only_later(tmp_path: Path) -> None:
    errors = errors_of(tmp_path, ["%%mlstep a\ny = x", "%%mlstep b\nx = 1"])
    assert errors == [
        "cell 1, step 'a': reads 'x', which no earlier step, parameter or setup code defines "
        "(it is first defined later, in cell 2)"
    ]


def test_cycle_from_explicit_inputs(tmp_path: Path) -> None:
    errors = errors_of(tmp_path, ["%%mlstep a --inputs y\nx = 1", "%%mlstep b\ny = x"])
    assert errors == ["cell 1, step 'a': explicit --inputs make a dependency cycle: a → b → a"]


def test_syntax_error_in_a_step(tmp_path: Path) -> None:
    assert errors_of(tmp_path, ["%%mlstep a\nx = 1\ny = ("]) == [
        "cell 1, step 'a': syntax error on line 3: '(' was never closed"
    ]


def test_non_literal_parameter(tmp_path: Path) -> None:
    errors = errors_of(tmp_path, [("n = len('abc')", ["parameters"])])
    assert errors[0].startswith(
        "cell 1: parameters cell: parameter 'n' needs a literal default (number, string"
    )


def test_all_errors_are_reported_in_cell_order(tmp_path: Path) -> None:
    errors = errors_of(tmp_path, ["%%mlstep a\ny = q", "%%mlstep 1b\nz = 1", "%%mlstep c\nw = r"])
    assert [e.split(":")[0] for e in errors] == ["cell 1, step 'a'", "cell 2", "cell 3, step 'c'"]


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json", "not a valid notebook: an .ipynb file is JSON, and this file is not valid"),
        ("[]", "not a valid notebook (.ipynb JSON): no 'cells' list"),
        ('{"nbformat": 3, "cells": []}', "unsupported nbformat 3; expected 4"),
        ('{"nbformat": 4, "cells": [{"cell_type": "weird"}]}', "cell 1: unknown cell_type 'weird'"),
    ],
)
def test_invalid_notebook_files(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.ipynb"
    path.write_text(content)
    with pytest.raises(NotebookError) as caught:
        scan_notebook(path)
    assert str(caught.value).startswith(f"{path}: {message}")


def test_missing_notebook(tmp_path: Path) -> None:
    with pytest.raises(NotebookError, match="no such notebook"):
        scan_notebook(tmp_path / "missing.ipynb")


def test_content_hash_ignores_outputs(tmp_path: Path) -> None:
    path = write_notebook(tmp_path / "nb.ipynb", ["%%mlstep a\nx = 1"])
    before = scan_notebook(path).notebook_hash
    document = json.loads(path.read_text())
    document["cells"][0]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "1"}]
    document["cells"][0]["execution_count"] = 3
    path.write_text(json.dumps(document))
    assert scan_notebook(path).notebook_hash == before


def test_cli_refusal_is_one_line_per_problem_and_exit_2(tmp_path: Path) -> None:
    path = write_notebook(tmp_path / "nb.ipynb", ["%%mlstep a\ny = q", "%%mlstep a\nz = 1"])
    result = subprocess.run(
        [sys.executable, "-m", "jupyter_mlops.cli", "extract", str(path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"error: {path}: cell 1, step 'a': reads 'q', which no earlier step, parameter or setup "
        "code defines",
        f"error: {path}: cell 2, step 'a': step name 'a' is already used by cell 1",
    ]
    assert not (tmp_path / "pipelines").exists()


def test_show_refuses_ipython_syntax_in_steps_as_extract_does(tmp_path: Path) -> None:
    cells = ["import math", "%%mlstep load\n!pip install x\nx = 1", "%%mlstep use\n%time y = x + 1"]
    assert errors_of(tmp_path, cells) == [
        "cell 2, step 'load': line 2 '!pip install x' is IPython syntax (a magic or shell "
        "escape), which a module cannot run; move it to a cell that is not a step",
        "cell 3, step 'use': line 2 '%time y = x + 1' is IPython syntax (a magic or shell "
        "escape), which a module cannot run; move it to a cell that is not a step",
    ]
