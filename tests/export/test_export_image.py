"""``export --image-context DIR``: the Docker build context of the image the exported tasks
run in, checked offline (no Docker daemon here): hadolint finds nothing, the Dockerfile has
the model container's base, user and pinned install, the pipeline folder without its
store or caches, ``jupyter-mlops`` as entrypoint and no artifact key; the same input writes
byte-identical files; bad paths and imports are refused naming them, nothing written."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from dockerfile_lines import env_of, instructions

from jupyter_mlops import api
from jupyter_mlops.errors import ExportError

HADOLINT = Path(sys.executable).with_name("hadolint")
CLI = str(Path(sys.executable).with_name("jupyter-mlops"))


@pytest.fixture
def pipeline(example_pipelines: dict[str, Path], tmp_path: Path) -> Path:
    """A copy of the classification pipeline, with a store, caches and a checkpoint in it."""
    folder = tmp_path / "classification"
    shutil.copytree(example_pipelines["classification"], folder)
    (folder / ".mlops" / "objects").mkdir(parents=True)
    (folder / ".mlops" / "objects" / "blob").write_bytes(b"artifact")
    (folder / "classification" / "__pycache__").mkdir()
    (folder / "classification" / "__pycache__" / "common.cpython-311.pyc").write_bytes(b"x")
    (folder / "notebooks" / ".ipynb_checkpoints").mkdir()
    return folder


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_the_context_lints_clean_and_holds_the_pipeline(pipeline: Path, tmp_path: Path) -> None:
    context = tmp_path / "ctx"
    result = api.export(
        pipeline,
        "kfp",
        tmp_path / "p.yaml",
        api.ExportOptions(image="reg.example/clf:1", store="s3://bucket/mlops"),
        context,
    )
    assert result.image_context == context
    assert result.to_dict()["image_context"] == str(context)
    lint = subprocess.run(
        [str(HADOLINT), "--no-color", str(context / "Dockerfile")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr

    pairs = instructions(context / "Dockerfile")
    kinds = [instruction for instruction, _ in pairs]
    assert pairs[0] == ("FROM", "python:3.11-slim")
    assert ("USER", "10001") in pairs
    assert kinds.index("USER") < kinds.index("ENTRYPOINT")  # steps never run as root
    assert ("COPY", "--chown=10001:10001 pipeline/ /pipeline/") in pairs
    assert ("ENTRYPOINT", '["jupyter-mlops"]') in pairs
    assert ("RUN", "pip install --no-cache-dir -r requirements.txt") in pairs
    assert env_of(pairs)["JUPYTER_MLOPS_STATE_DIR"] == "/run/secrets/jupyter-mlops"

    files = _files(context)
    assert not [name for name in files if "artifact-key" in name or ".mlops" in name]
    assert not [name for name in files if "__pycache__" in name or "checkpoints" in name]
    assert files["pipeline/pipeline.yaml"] == (pipeline / "pipeline.yaml").read_bytes()
    assert "pipeline/classification/common.py" in files

    requirements = files["requirements.txt"].decode().splitlines()[1:]
    assert f"scikit-learn=={metadata.version('scikit-learn')}" in requirements
    assert f"s3fs=={metadata.version('s3fs')}" in requirements  # the s3:// store
    assert f"fsspec=={metadata.version('fsspec')}" in requirements  # any --store
    assert f"papermill=={metadata.version('papermill')}" in requirements  # [jupyter]
    own = [line for line in requirements if "jupyter_mlops" in line]
    assert len(own) == 1 and own[0].endswith("[jupyter,dask]")
    assert all("==" in line or line == own[0] for line in requirements), requirements
    marker = json.loads(files["mlops-package.json"])
    assert marker["format"] == "pipeline-image" and marker["image"] == "reg.example/clf:1"
    assert "reg.example/clf:1" in files["README.md"].decode()


def test_the_same_input_writes_byte_identical_contexts(pipeline: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    api.export(pipeline, "airflow", tmp_path / "dag1.py", image_context=first)
    api.export(pipeline, "airflow", tmp_path / "dag2.py", image_context=second)
    assert _files(first) == _files(second)
    api.export(pipeline, "airflow", tmp_path / "dag1.py", image_context=first)  # replaced
    assert _files(first) == _files(second)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


@pytest.mark.parametrize(
    ("where", "options", "named"),
    [
        ("occupied", {}, "--image-context"),
        ("inside", {}, "--image-context"),
        ("ctx", {"pipeline_dir": "relative/dir"}, "--pipeline-dir"),
    ],
)
def test_bad_paths_are_refused_naming_them(
    pipeline: Path, tmp_path: Path, where: str, options: dict[str, Any], named: str
) -> None:
    (tmp_path / "occupied").mkdir()
    (tmp_path / "occupied" / "notes.txt").write_text("mine")
    context = pipeline / "image" if where == "inside" else tmp_path / where
    with pytest.raises(ExportError) as caught:
        api.export(pipeline, "kfp", tmp_path / "p.yaml", api.ExportOptions(**options), context)
    assert caught.value.name == named
    assert not (tmp_path / "p.yaml").exists()
    assert (tmp_path / "occupied" / "notes.txt").read_text() == "mine"
    assert not (pipeline / "image").exists() and not (tmp_path / "ctx").exists()
    assert not [p for p in tmp_path.iterdir() if ".staging." in p.name]


def test_an_import_no_distribution_provides_is_named(pipeline: Path, tmp_path: Path) -> None:
    common = pipeline / "classification" / "common.py"
    common.write_text(common.read_text() + "\nimport surely_not_installed_lib\n")
    with pytest.raises(ExportError) as caught:
        api.export(pipeline, "kfp", tmp_path / "p.yaml", image_context=tmp_path / "ctx")
    assert caught.value.name == "surely_not_installed_lib"
    assert caught.value.path == "classification/common.py"
    assert not (tmp_path / "ctx").exists() and not (tmp_path / "p.yaml").exists()


def test_the_cli_writes_the_context_and_refuses_an_occupied_folder(
    pipeline: Path, tmp_path: Path
) -> None:
    args = [CLI, "export", str(pipeline), "--to", "airflow", "-o", str(tmp_path / "dag.py")]
    done = subprocess.run(
        [*args, "--image-context", str(tmp_path / "ctx")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert f"image context: {tmp_path / 'ctx'}" in done.stdout
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "a").write_text("a")
    refused = subprocess.run(
        [*args, "--image-context", str(tmp_path / "mine")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert refused.returncode == 2
    assert str(tmp_path / "mine") in refused.stderr and "--image-context" in refused.stderr
