"""``export --to airflow``: the DAG file compiles, and its tasks, edges, params and retries
(read from its syntax tree, without Airflow) are the pipeline's."""

from __future__ import annotations

import ast
import py_compile
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlops import api
from jupyter_mlops.export.airflow_dag import airflow_dag_file
from jupyter_mlops.export.steps import ExportOptions, plan_export
from jupyter_mlops.pipeline.pipeline_file import read_pipeline


class DagFile:
    """What an Airflow DAG file declares, read from its syntax tree."""

    def __init__(self, path: Path) -> None:
        py_compile.compile(str(path), doraise=True)
        self.tree = ast.parse(path.read_text(encoding="utf-8"))
        self.tasks: dict[str, ast.Call] = {}  # task_id → operator call
        variables: dict[str, str] = {}  # Python name → task_id
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
                task_id = _keyword(node.value, "task_id")
                if task_id is not None:
                    self.tasks[task_id] = node.value
                    variables[node.targets[0].id] = task_id  # type: ignore[attr-defined]
        self.edges = sorted(
            (variables[up], variables[node.right.id])  # type: ignore[attr-defined]
            for node in ast.walk(self.tree)
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.RShift)
            for up in _names(node.left)
        )
        dag = next(
            n for n in ast.walk(self.tree) if isinstance(n, ast.Call) and _name(n.func) == "DAG"
        )
        self.dag_args = {k.arg: k.value for k in dag.keywords}
        self.helpers: dict[str, Any] = {}  # run_step and the constants, run on their own
        for node in self.tree.body:
            if isinstance(node, ast.FunctionDef | ast.Assign):
                exec(compile(ast.Module([node], []), "dag", "exec"), self.helpers)

    def value(self, task_id: str, keyword: str) -> Any:
        """A task's keyword argument, evaluated with the file's run_step and constants."""
        node = next(k.value for k in self.tasks[task_id].keywords if k.arg == keyword)
        return eval(compile(ast.Expression(node), "dag", "eval"), dict(self.helpers))

    def params(self) -> dict[str, tuple[Any, str]]:
        """DAG param → (default, type); default None for a required param."""
        params = self.dag_args["params"]
        assert isinstance(params, ast.Dict)
        shown = {}
        for key, call in zip(params.keys, params.values, strict=True):
            assert isinstance(key, ast.Constant) and isinstance(call, ast.Call)
            default = ast.literal_eval(call.args[0]) if call.args else None
            shown[key.value] = (default, _keyword(call, "type"))
        return shown


def _name(node: ast.expr) -> str:
    return node.id if isinstance(node, ast.Name) else ""


def _names(node: ast.expr) -> list[str]:
    return [e.id for e in node.elts] if isinstance(node, ast.List) else [_name(node)]  # type: ignore[attr-defined]


def _keyword(call: ast.Call, name: str) -> Any:
    for keyword in call.keywords:
        if keyword.arg == name:
            return ast.literal_eval(keyword.value)
    return None


TYPES = {float: "number", int: "integer", bool: "boolean", str: "string"}


@pytest.mark.parametrize("name", ["classification", "regression"])
def test_dag_has_the_pipelines_tasks_edges_and_params(
    example_pipelines: dict[str, Path], tmp_path: Path, name: str
) -> None:
    pipeline = read_pipeline(example_pipelines[name])
    out = tmp_path / f"{name}_dag.py"
    api.export(example_pipelines[name], "airflow", out, api.ExportOptions(retries=3))
    dag = DagFile(out)

    assert sorted(dag.tasks) == sorted(step.name for step in pipeline.steps)
    expected_edges = sorted((up, step.name) for step in pipeline.steps for up in step.upstream())
    assert dag.edges == expected_edges
    assert dag.params() == {
        "mlops_store": (None, "string"),
        **{p: (v, TYPES[type(v)]) for p, v in pipeline.params.items()},
    }
    assert ast.literal_eval(dag.dag_args["default_args"]) == {"retries": 3}
    assert ast.literal_eval(dag.dag_args["schedule"]) is None
    for step in pipeline.steps:
        call = dag.tasks[step.name]
        assert _name(call.func) == "KubernetesPodOperator"
        assert _keyword(call, "cmds") == ["jupyter-mlops"]
        arguments = dag.value(step.name, "arguments")
        assert arguments[:6] == [
            "run",
            "/pipeline",
            "--only",
            step.name,
            "--store",
            "{{ params.mlops_store }}",
        ]
        assert arguments[6:] == [
            part for p in pipeline.params for part in ("-p", f"{p}={{{{ params.{p} }}}}")
        ]


def test_bash_operator_passes_values_through_the_environment(
    example_pipelines: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "dag.py"
    options = api.ExportOptions(operator="bash", store="s3://b/p", pipeline_dir="/srv/reg")
    api.export(example_pipelines["regression"], "airflow", out, options)
    dag = DagFile(out)
    assert dag.params()["mlops_store"] == ("s3://b/p", "string")
    call = dag.tasks["train_ridge"]
    assert _name(call.func) == "BashOperator"
    assert "IMAGE" not in dag.helpers
    assert dag.value("train_ridge", "bash_command") == (
        'jupyter-mlops run /srv/reg --only train_ridge --store "$MLOPS_PARAM_mlops_store" '
        + " ".join(f'-p "{p}=$MLOPS_PARAM_{p}"' for p in ("alpha", "n_estimators", "test_size"))
    )
    assert dag.value("train_ridge", "env")["MLOPS_PARAM_alpha"] == "{{ params.alpha }}"
    assert _keyword(call, "append_env") is True


def test_limits_go_into_the_pod_and_names_do_not_clash(
    example_pipelines: dict[str, Path], tmp_path: Path
) -> None:
    pipeline = read_pipeline(example_pipelines["classification"])
    pipeline.step("evaluate").name = "dag"  # a step named like the file's `dag`
    pipeline.params["label"] = 'it\'s "quoted"'
    resources = {"train": {"cpu": 0.5, "memory": 2e9}}
    out = tmp_path / "dag.py"
    out.write_text(
        airflow_dag_file(plan_export(pipeline, ExportOptions(), resources), "kubernetes")
    )
    dag = DagFile(out)
    assert "dag" in dag.tasks and ("train", "dag") in dag.edges
    assert dag.params()["label"] == ('it\'s "quoted"', "string")
    resources = next(k.value for k in dag.tasks["train"].keywords if k.arg == "container_resources")
    assert (
        ast.unparse(resources)
        == "k8s.V1ResourceRequirements(limits={'cpu': '500m', 'memory': '2000000000'})"
    )


def test_same_input_writes_the_same_file(
    example_pipelines: dict[str, Path], tmp_path: Path
) -> None:
    first, second = tmp_path / "a.py", tmp_path / "b.py"
    for out in (first, second):
        api.export(example_pipelines["classification"], "airflow", out)
    assert first.read_bytes() == second.read_bytes()
