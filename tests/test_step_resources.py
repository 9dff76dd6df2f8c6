"""``%%mlstep NAME --resources cpu=2,memory=4GB``: the line, the model, pipeline.yaml, the
merge with the ``resources:`` section, ``show --json`` and the magic."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from nbfactory import write_notebook

from jupyter_mlops import api
from jupyter_mlops.authoring.scan import scan_notebook
from jupyter_mlops.authoring.stepline import parse_step_line
from jupyter_mlops.errors import ExtractionErrors, PipelineError, StepDeclarationError
from jupyter_mlops.execute.executors.resources import pipeline_resources
from jupyter_mlops.pipeline.pipeline_file import pipeline_yaml, read_pipeline_file

CELLS: list[str | tuple[str, list[str]]] = [
    "%%mlstep load --resources memory=500MB\nrows = [1, 2, 3]",
    "%%mlstep train --model model --resources 'cpu=2, memory=4GiB' --no-cache\nmodel = sum(rows)",
    "%%mlstep report\ntotal = model * 2",
]


def test_the_line_takes_amounts_in_the_sections_syntax() -> None:
    options = parse_step_line("train --resources cpu=2,memory=4GB,gpu=1 --no-cache")
    assert options.resources == {"cpu": 2.0, "memory": 4e9, "gpu": 1.0}
    assert options.no_cache
    assert parse_step_line("train --resources 'cpu=0.5, memory=1.5GiB'").resources == {
        "cpu": 0.5,
        "memory": 1.5 * 2**30,
    }
    assert parse_step_line("train").resources is None


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("t --resources", "option --resources needs amounts, like cpu=2,memory=4GB"),
        ("t --resources cpu", "option --resources: write name=amount pairs"),
        ("t --resources cpu=2GB", r"option --resources.cpu: '2GB' is not an amount"),
        ("t --resources memory=4XB", r"--resources.memory: '4XB' is not an amount \(memory units"),
        ("t --resources cpu=0", "option --resources.cpu: the amount must be positive"),
        ("t --resources cpu=1e999", "option --resources.cpu: '1e999' is not a finite amount"),
        ("t --resources 2x=1", "option --resources: '2x' is not a resource name"),
        ("t --resources cpu=1 --resources cpu=2", "option --resources given twice"),
        ("t --resources cpu=1 memory=2GB", "unexpected argument 'memory=2GB'"),
    ],
)
def test_bad_amounts_name_the_option(line: str, message: str) -> None:
    with pytest.raises(StepDeclarationError, match=message) as caught:
        parse_step_line(line)
    assert caught.value.step == "t"


def test_extraction_errors_name_the_cell_and_the_option(tmp_path: Path) -> None:
    cells: list[str | tuple[str, list[str]]] = [
        "%%mlstep load\nrows = [1]",
        "%%mlstep train --resources cpu=two\nn = len(rows)",
    ]
    with pytest.raises(ExtractionErrors) as caught:
        scan_notebook(write_notebook(tmp_path / "nb.ipynb", cells))
    assert [str(e) for e in caught.value.errors] == [
        "cell 2, step 'train': option --resources.cpu: 'two' is not an amount"
    ]
    assert caught.value.errors[0].name == "--resources"


def test_the_step_carries_them_into_show_and_pipeline_yaml(tmp_path: Path) -> None:
    pipeline = scan_notebook(write_notebook(tmp_path / "nb.ipynb", CELLS))
    shown = {step["name"]: step for step in pipeline.to_json()["steps"]}
    assert shown["load"]["resources"] == {"memory": 5e8}
    assert shown["train"]["resources"] == {"cpu": 2.0, "memory": 4 * 2**30}
    assert "resources" not in shown["report"]  # only when declared: the shape stays as it was

    text = pipeline_yaml(pipeline, "nb.ipynb")
    assert text == pipeline_yaml(pipeline, "nb.ipynb")
    steps = {step["name"]: step for step in yaml.safe_load(text)["steps"]}
    assert steps["train"]["resources"] == {"cpu": 2, "memory": 4 * 2**30}
    assert "  cache: false\n  resources:\n    cpu: 2\n    memory: 4294967296\n" in text
    assert "resources" not in steps["report"]

    folder = api.extract(tmp_path / "nb.ipynb").folder
    read = read_pipeline_file(folder).pipeline
    assert {s.name: s.resources for s in read.steps} == {
        "load": {"memory": 5e8},
        "train": {"cpu": 2.0, "memory": 4 * 2**30},
        "report": {},
    }
    assert read.step("train").no_cache and read.step("train").model == "model"


def test_a_bad_resources_field_in_pipeline_yaml_is_named(tmp_path: Path) -> None:
    write_notebook(tmp_path / "nb.ipynb", CELLS)
    file = api.extract(tmp_path / "nb.ipynb").folder / "pipeline.yaml"
    file.write_text(file.read_text().replace("memory: 500000000", "memory: lots"))
    with pytest.raises(PipelineError, match=r"steps\[0\].resources.memory: 'lots' is not an"):
        read_pipeline_file(file)


def test_the_section_replaces_a_steps_line_as_a_whole(tmp_path: Path) -> None:
    pipeline = scan_notebook(write_notebook(tmp_path / "nb.ipynb", CELLS))
    section = {"train": {"memory": "8GB"}, "report": "cpu=1"}
    assert pipeline_resources(pipeline, section, "p.yaml") == {
        "load": {"memory": 5e8},  # from its line
        "train": {"memory": 8e9},  # the section's entry, not merged key by key
        "report": {"cpu": 1.0},  # only in the section
    }
    assert pipeline_resources(pipeline, None, "p.yaml")["train"] == {"cpu": 2.0, "memory": 2**32}
    with pytest.raises(PipelineError, match="resources: no step named 'trian'"):
        pipeline_resources(pipeline, {"trian": {"cpu": 1}}, "p.yaml")


def test_show_json_prints_them(tmp_path: Path) -> None:
    path = write_notebook(tmp_path / "nb.ipynb", CELLS)
    result = subprocess.run(
        [sys.executable, "-m", "jupyter_mlops.cli", "show", "--json", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    steps = {step["name"]: step for step in json.loads(result.stdout)["steps"]}
    assert steps["train"]["resources"] == {"cpu": 2, "memory": 4294967296}
    assert "resources" not in steps["report"]


def test_the_magic_runs_a_cell_with_the_option_and_refuses_bad_amounts() -> None:
    from IPython.core.error import UsageError
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "jupyter_mlops")
    result = shell.run_cell("%%mlstep sized --resources cpu=2,memory=4GB\nsized_value = 6 * 7")
    assert result.success, result.error_in_exec
    assert shell.user_ns["sized_value"] == 42
    refused = shell.run_cell("%%mlstep sized --resources memory=4XB\nsized_value = 0")
    assert isinstance(refused.error_in_exec, UsageError)
    assert "option --resources.memory: '4XB' is not an amount" in str(refused.error_in_exec)
    assert shell.user_ns["sized_value"] == 42
