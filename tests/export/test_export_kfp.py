"""``export --to kfp``: the spec loads back with the kfp SDK, and its tasks, edges, typed
parameters, retries, limits, image and commands are the pipeline's."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from jupyter_mlops import api
from jupyter_mlops.errors import MlopsError
from jupyter_mlops.export.kfp_spec import kfp_spec_text
from jupyter_mlops.export.steps import ExportOptions, plan_export
from jupyter_mlops.pipeline.pipeline_file import read_pipeline

kfp_components = pytest.importorskip("kfp.components")

KFP_TYPES = {float: "NUMBER_DOUBLE", int: "NUMBER_INTEGER", bool: "BOOLEAN", str: "STRING"}


def _export(folder: Path, out: Path, **options: Any) -> dict[str, Any]:
    api.export(folder, "kfp", out, api.ExportOptions(**options))
    return yaml.safe_load(out.read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", ["classification", "regression"])
def test_spec_has_the_pipelines_tasks_edges_and_parameters(
    example_pipelines: dict[str, Path], tmp_path: Path, name: str
) -> None:
    folder = example_pipelines[name]
    pipeline = read_pipeline(folder)
    out = tmp_path / "pipeline.yaml"
    spec = _export(folder, out, image="registry.example/ml:1", store="s3://bucket/mlops")

    component = kfp_components.load_component_from_file(str(out))
    inputs = component.component_spec.inputs
    assert list(inputs) == sorted(["mlops_store", *pipeline.params])
    assert inputs["mlops_store"].default == "s3://bucket/mlops"
    declared = spec["root"]["inputDefinitions"]["parameters"]
    for param, default in pipeline.params.items():
        assert declared[param]["parameterType"] == KFP_TYPES[type(default)]
        assert declared[param]["defaultValue"] == pytest.approx(default)

    tasks = spec["root"]["dag"]["tasks"]
    by_step = {task["taskInfo"]["name"]: task for task in tasks.values()}
    assert sorted(by_step) == sorted(step.name for step in pipeline.steps)
    key_of = {task["taskInfo"]["name"]: key for key, task in tasks.items()}
    for step in pipeline.steps:
        task = by_step[step.name]
        assert sorted(task.get("dependentTasks", [])) == sorted(key_of[u] for u in step.upstream())
        assert task["retryPolicy"]["maxRetryCount"] == 2
        assert task["cachingOptions"] == {}  # KFP's caching off: the store's cache decides
        executor = spec["deploymentSpec"]["executors"][_executor_of(spec, task)]["container"]
        assert executor["image"] == "registry.example/ml:1"
        assert executor["command"] == ["jupyter-mlops"]
        assert executor["args"][:6] == [
            "run",
            "/pipeline",
            "--only",
            step.name,
            "--store",
            "{{$.inputs.parameters['mlops_store']}}",
        ]
        assert [a for a in executor["args"][6:] if a != "-p"] == [
            f'{{"Concat": ["{p}=", "{{{{$.inputs.parameters[\'{p}\']}}}}"]}}'
            for p in pipeline.params
        ]
        assert "resources" not in executor  # the examples declare no limits


def _executor_of(spec: dict[str, Any], task: dict[str, Any]) -> str:
    component = spec["components"][task["componentRef"]["name"]]
    return str(component["executorLabel"])


def test_same_input_writes_the_same_file(
    example_pipelines: dict[str, Path], tmp_path: Path
) -> None:
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    for out in (first, second):
        api.export(example_pipelines["regression"], "kfp", out)
    assert first.read_bytes() == second.read_bytes()


def test_store_without_default_is_a_required_parameter(
    example_pipelines: dict[str, Path], tmp_path: Path
) -> None:
    spec = _export(example_pipelines["regression"], tmp_path / "p.yaml", retries=0)
    store = spec["root"]["inputDefinitions"]["parameters"]["mlops_store"]
    assert store == {"parameterType": "STRING"}
    tasks = spec["root"]["dag"]["tasks"].values()
    assert not any("retryPolicy" in task for task in tasks)  # --retries 0: none set
    images = {e["container"]["image"] for e in spec["deploymentSpec"]["executors"].values()}
    assert images == {"regression-pipeline:latest"}


def test_parameter_types(example_pipelines: dict[str, Path]) -> None:
    pipeline = read_pipeline(example_pipelines["classification"])
    pipeline.params = {"flag": True, "name": "x", "sizes": [1, 2], "C": 0.5, "opts": {"a": 1}}
    spec = yaml.safe_load(kfp_spec_text(plan_export(pipeline, ExportOptions())))
    types = {
        name: p["parameterType"]
        for name, p in spec["root"]["inputDefinitions"]["parameters"].items()
    }
    assert types == {
        "mlops_store": "STRING",
        "flag": "BOOLEAN",
        "name": "STRING",
        "sizes": "LIST",
        "C": "NUMBER_DOUBLE",
        "opts": "STRUCT",
    }


def test_limits_come_from_the_resources_section(
    example_pipelines: dict[str, Path], tmp_path: Path
) -> None:
    folder = tmp_path / "classification"
    shutil.copytree(example_pipelines["classification"], folder)
    with (folder / "pipeline.yaml").open("a", encoding="utf-8") as file:
        file.write("resources:\n  train: {cpu: 2, memory: 4GiB}\n  split: cpu=0.5,gpu=1\n")
    spec = _export(folder, tmp_path / "p.yaml")

    def limits(step: str) -> dict[str, Any]:
        task = spec["root"]["dag"]["tasks"][step]
        container = spec["deploymentSpec"]["executors"][_executor_of(spec, task)]["container"]
        return dict(container.get("resources", {}))

    assert limits("train")["resourceCpuLimit"] == "2"
    assert limits("train")["resourceMemoryLimit"] == str(4 * 2**30)
    assert limits("split") == {"cpuLimit": 0.5, "resourceCpuLimit": "500m"}  # gpu: Dask only
    assert limits("load-data") == {}


def test_a_bad_resources_section_is_named(
    example_pipelines: dict[str, Path], tmp_path: Path
) -> None:
    folder = tmp_path / "classification"
    shutil.copytree(example_pipelines["classification"], folder)
    with (folder / "pipeline.yaml").open("a", encoding="utf-8") as file:
        file.write("resources:\n  tran: {cpu: 2}\n")
    with pytest.raises(MlopsError, match="resources: no step named 'tran'"):
        api.export(folder, "kfp", tmp_path / "p.yaml")
    assert not (tmp_path / "p.yaml").exists()
