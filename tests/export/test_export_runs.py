"""The exported tasks really run: each KFP task's command, its placeholders resolved by the
kfp SDK's own resolver with the spec's typed defaults, runs its step through
``jupyter-mlops run --only STEP --store URL`` from another copy of the pipeline folder (as a
pod would) against one shared store; the parameters arrive with their types, the second
task finds the first's artifacts there, and the Airflow task of the same step writes the
same artifact.

KFP passes a list or dict parameter as JSON with every number a float ([1, 2] arrives as
[1.0, 2.0]); the list here holds strings so that both orchestrators give equal values."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from nbfactory import write_notebook

from jupyter_mlops import api

placeholder_utils = pytest.importorskip("kfp.local.placeholder_utils")
jinja2 = pytest.importorskip("jinja2")

BIN = Path(sys.executable).parent
CELLS: list[str | tuple[str, list[str]]] = [
    ("n = 3\nrate = 0.5\nflag = True\nlabel = 'x y'\nsizes = ['s', 'm']", ["parameters"]),
    "%%mlstep make\nvalues = list(range(n))",
    "%%mlstep check\n"
    "kinds = [type(v).__name__ for v in (n, rate, flag, label, sizes)]\n"
    "assert kinds == ['int', 'float', 'bool', 'str', 'list'], kinds\n"
    "total = sum(values) * rate",
]


def _kfp_commands(spec: dict[str, Any], store: str, output_file: Path) -> list[list[str]]:
    """Each task's command in DAG order, resolved as the kfp SDK's local runner does."""
    values = {
        name: declared.get("defaultValue")
        for name, declared in spec["root"]["inputDefinitions"]["parameters"].items()
    }
    values["mlops_store"] = store
    executor_input = {
        "inputs": {"parameterValues": values},
        "outputs": {"outputFile": str(output_file)},
    }
    tasks = spec["root"]["dag"]["tasks"]
    assert tasks["check"]["dependentTasks"] == ["make"]
    commands = []
    for key in ("make", "check"):
        label = spec["components"][tasks[key]["componentRef"]["name"]]["executorLabel"]
        container = spec["deploymentSpec"]["executors"][label]["container"]
        command = container["command"] + container["args"]
        commands.append(
            placeholder_utils.replace_placeholders(command, executor_input, "p", key, "/tmp", "1")
        )
    return commands


def _run(command: list[str], pod_folder: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    command = [
        str(BIN / command[0]),
        *(str(pod_folder) if a == "/pipeline" else a for a in command[1:]),
    ]
    return subprocess.run(
        command, capture_output=True, text=True, env=env, timeout=300, check=False
    )


def test_exported_tasks_share_the_store_and_keep_parameter_types(tmp_path: Path) -> None:
    notebook = write_notebook(tmp_path / "typed.ipynb", CELLS)
    folder = api.extract(notebook).folder
    spec_file, dag_file = tmp_path / "typed.yaml", tmp_path / "typed_dag.py"
    api.export(folder, "kfp", spec_file)
    api.export(folder, "airflow", dag_file)
    store = str(tmp_path / "shared-store")
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}"}

    spec = yaml.safe_load(spec_file.read_text(encoding="utf-8"))
    for number, command in enumerate(_kfp_commands(spec, store, tmp_path / "out.json")):
        pod = tmp_path / f"pod{number}"  # every task in a fresh copy of the image's folder
        shutil.copytree(folder, pod)
        done = _run(command, pod, env)
        assert done.returncode == 0, done.stdout + done.stderr
    assert "1 cached, 1 ran" in done.stdout  # `check` found `make`'s output in the store

    dag = dag_file.read_text(encoding="utf-8")
    arguments = _airflow_arguments(dag, "check")
    defaults = {
        "mlops_store": store,
        "n": 3,
        "rate": 0.5,
        "flag": True,
        "label": "x y",
        "sizes": ["s", "m"],
    }
    rendered = [jinja2.Template(a).render(params=defaults) for a in arguments]
    shutil.copytree(folder, tmp_path / "worker")
    again = _run(["jupyter-mlops", *rendered], tmp_path / "worker", env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "1 cached, 1 ran" in again.stdout  # `--only` re-runs its step, upstream cached
    assert _result_line(again.stdout) == _result_line(done.stdout)  # the same artifact


def _result_line(output: str) -> str:
    return next(line for line in output.splitlines() if line.startswith("result check.total"))


def _airflow_arguments(dag: str, task_id: str) -> list[str]:
    """The task's ``arguments=run_step(...)``, with the file's own run_step."""
    import ast

    tree = ast.parse(dag)
    helpers: dict[str, Any] = {}
    run_step = next(n for n in tree.body if isinstance(n, ast.FunctionDef))
    exec(compile(ast.Module([run_step], []), "dag", "exec"), helpers)
    assert f'arguments=run_step("{task_id}")' in dag
    return list(helpers["run_step"](task_id))
