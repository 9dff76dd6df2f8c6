"""``export`` takes each step's limits from its ``%%mlstep --resources``, replaced by the
step's entry in the ``resources:`` section when it has one."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
import yaml
from nbfactory import write_notebook

from jupyter_mlops import api

CELLS: list[str | tuple[str, list[str]]] = [
    "%%mlstep load --resources cpu=0.5,memory=1GiB\nrows = [1, 2, 3]",
    "%%mlstep train --resources cpu=2,memory=4GB,gpu=1\nmodel = sum(rows)",
    "%%mlstep report\ntotal = model * 2",
]


@pytest.fixture
def sized(tmp_path: Path) -> Path:
    folder = api.extract(write_notebook(tmp_path / "sized.ipynb", CELLS)).folder
    with (folder / "pipeline.yaml").open("a", encoding="utf-8") as file:
        file.write("resources:\n  train: {memory: 8GB}\n")
    return folder


def test_kfp_limits_come_from_the_cell_line_and_the_section(sized: Path, tmp_path: Path) -> None:
    pytest.importorskip("kfp.components")
    out = tmp_path / "kfp.yaml"
    api.export(sized, "kfp", out)
    spec = yaml.safe_load(out.read_text(encoding="utf-8"))

    def limits(step: str) -> dict[str, Any]:
        task = spec["root"]["dag"]["tasks"][step]
        executor = spec["components"][task["componentRef"]["name"]]["executorLabel"]
        return dict(spec["deploymentSpec"]["executors"][executor]["container"].get("resources", {}))

    assert limits("load")["resourceCpuLimit"] == "500m"
    assert limits("load")["resourceMemoryLimit"] == str(2**30)
    assert limits("train")["resourceMemoryLimit"] == "8000000000"  # the section's entry
    assert "resourceCpuLimit" not in limits("train")  # replaced as a whole, not merged
    assert limits("report") == {}


def test_airflow_limits_come_from_the_cell_line(sized: Path, tmp_path: Path) -> None:
    out = tmp_path / "dag.py"
    api.export(sized, "airflow", out, api.ExportOptions(operator="kubernetes"))
    calls = {
        _task_id(node): node
        for node in ast.walk(ast.parse(out.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call) and _task_id(node)
    }
    limits = {
        task: ast.unparse(keyword.value)
        for task, call in calls.items()
        for keyword in call.keywords
        if keyword.arg == "container_resources"
    }
    assert limits == {
        "load": f"k8s.V1ResourceRequirements(limits={{'cpu': '500m', 'memory': '{2**30}'}})",
        "train": "k8s.V1ResourceRequirements(limits={'memory': '8000000000'})",
    }


def _task_id(call: ast.Call) -> str | None:
    for keyword in call.keywords:
        if keyword.arg == "task_id" and isinstance(keyword.value, ast.Constant):
            return str(keyword.value.value)
    return None
