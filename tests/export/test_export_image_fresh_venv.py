"""The image would run a step: the context's install steps (the Dockerfile's ``RUN pip``
line, from the context folder) replayed into a fresh venv, its ``COPY pipeline/`` replayed
to the export's ``--pipeline-dir``, then one exported KFP task's command — placeholders
resolved by the kfp SDK's own resolver — run with the Dockerfile's ENV and a mounted
artifact key, against a local store: the step runs from the installed wheel and writes its
artifacts. No Docker daemon exists here: the image build itself is not exercised.

Marked ``fresh_venv`` (slow: ``-m fresh_venv`` selects it)."""

from __future__ import annotations

import secrets
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from dockerfile_lines import env_of, instructions
from fresh_venv import clean_env, make_venv, run_shell

from jupyter_mlops import api

placeholder_utils = pytest.importorskip("kfp.local.placeholder_utils")
pytestmark = [pytest.mark.fresh_venv, pytest.mark.timeout(1200)]

STEP = "load_data"


def _task_command(spec_file: Path, step: str, store: str, tmp_path: Path) -> list[str]:
    """The task's command and arguments, resolved with the spec's defaults and ``store``."""
    spec = yaml.safe_load(spec_file.read_text(encoding="utf-8"))
    values = {
        name: declared.get("defaultValue")
        for name, declared in spec["root"]["inputDefinitions"]["parameters"].items()
    }
    values["mlops_store"] = store
    executor_input = {
        "inputs": {"parameterValues": values},
        "outputs": {"outputFile": str(tmp_path / "out.json")},
    }
    tasks = spec["root"]["dag"]["tasks"].values()
    task = next(task for task in tasks if task["taskInfo"]["name"] == step)
    label = spec["components"][task["componentRef"]["name"]]["executorLabel"]
    container = spec["deploymentSpec"]["executors"][label]["container"]
    command = container["command"] + container["args"]
    return list(
        placeholder_utils.replace_placeholders(command, executor_input, "p", step, "/tmp", "1")
    )


def test_the_context_installs_and_runs_an_exported_step(
    example_pipelines: dict[str, Path], tmp_path: Path
) -> None:
    pipeline_dir = tmp_path / "image-root" / "pipeline"
    context, spec_file = tmp_path / "ctx", tmp_path / "pipeline.yaml"
    options = api.ExportOptions(pipeline_dir=str(pipeline_dir))
    api.export(example_pipelines["classification"], "kfp", spec_file, options, context)
    pairs = instructions(context / "Dockerfile")
    venv = make_venv(tmp_path / "venv")
    for instruction, rest in pairs:
        if instruction == "RUN" and rest.startswith("pip install"):
            run_shell(venv, rest, cwd=context)
        if instruction == "COPY" and rest.endswith(f"pipeline/ {pipeline_dir}/"):
            shutil.copytree(context / "pipeline", pipeline_dir)
    assert (pipeline_dir / "pipeline.yaml").is_file()

    secret = tmp_path / "secrets"  # the mounted artifact key
    secret.mkdir()
    (secret / "artifact-key").write_bytes(secrets.token_bytes(32))
    store = tmp_path / "store"
    command = _task_command(spec_file, STEP, str(store), tmp_path)
    assert command[:5] == ["jupyter-mlops", "run", str(pipeline_dir), "--only", STEP]
    env = clean_env(
        venv,
        **{**env_of(pairs), "JUPYTER_MLOPS_STATE_DIR": str(secret)},
        MLFLOW_TRACKING_URI=f"sqlite:///{tmp_path / 'mlflow.db'}",
    )
    done = subprocess.run(
        [str(venv / command[0]), *command[1:]],
        cwd=pipeline_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert any(store.rglob("*")), "the step wrote nothing to the store"
    where = subprocess.run(
        [str(venv / "python"), "-c", "import jupyter_mlops; print(jupyter_mlops.__file__)"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert where.stdout.startswith(str(tmp_path / "venv")), where.stdout + where.stderr
