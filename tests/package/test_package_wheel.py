"""The ``wheel`` package format without installing it: byte-for-byte the same when built
twice, its metadata requires the model's pinned requirements, its RECORD hashes match,
and its generated ``__init__.py`` is formatted and lint-clean (a reviewer reads it)."""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from iris_package import NAME, RegisteredIris, register_iris

from jupyter_mlops import api

pytest_plugins = ("mlflow_fixtures",)

WHEEL = "iris_model-1-py3-none-any.whl"
RUFF = Path(sys.executable).with_name("ruff")


@pytest.fixture(scope="module")
def iris(mlflow_db_template: Path, tmp_path_factory: pytest.TempPathFactory) -> RegisteredIris:
    return register_iris(mlflow_db_template, tmp_path_factory.mktemp("store"))


def test_the_wheel_is_byte_identical_when_built_twice(iris: RegisteredIris, tmp_path: Path) -> None:
    first = api.package(NAME, "wheel", tmp_path / "one", iris.uri)
    second = api.package(f"{NAME}/1", "wheel", tmp_path / "two", iris.uri)
    assert first.files == second.files == (WHEEL,)
    assert (tmp_path / "one" / WHEEL).read_bytes() == (tmp_path / "two" / WHEEL).read_bytes()


def test_the_wheel_requires_the_models_pinned_requirements(
    iris: RegisteredIris, tmp_path: Path
) -> None:
    from importlib.metadata import version

    api.package(NAME, "wheel", tmp_path / "out", iris.uri)
    with zipfile.ZipFile(tmp_path / "out" / WHEEL) as wheel:
        metadata = wheel.read("iris_model-1.dist-info/METADATA").decode()
        requirements = wheel.read("iris_model/model/requirements.txt").decode().split()
    requires = [line.split(": ", 1)[1] for line in metadata.splitlines() if "Requires-Dist" in line]
    assert "Name: iris_model" in metadata and "Version: 1" in metadata
    assert f"mlflow=={version('mlflow')}" in requires
    assert f"scikit-learn=={version('scikit-learn')}" in requires
    assert set(requirements) <= set(requires)
    assert all("==" in requirement for requirement in requires)


def test_the_record_lists_every_file_with_its_sha256(iris: RegisteredIris, tmp_path: Path) -> None:
    api.package(NAME, "wheel", tmp_path / "out", iris.uri)
    with zipfile.ZipFile(tmp_path / "out" / WHEEL) as wheel:
        names = wheel.namelist()
        record = wheel.read("iris_model-1.dist-info/RECORD").decode().splitlines()
        assert names[-1] == "iris_model-1.dist-info/RECORD"
        assert {line.split(",")[0] for line in record} == set(names)
        for line in record[:-1]:
            path, digest, size = line.split(",")
            data = wheel.read(path)
            expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            assert digest == f"sha256={expected.decode()}" and int(size) == len(data)
        assert {info.date_time for info in wheel.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert "iris_model/model/MLmodel" in names and "iris_model/signature.json" in names


def test_the_generated_module_is_formatted_and_lint_clean(
    iris: RegisteredIris, tmp_path: Path
) -> None:
    api.package(NAME, "wheel", tmp_path / "out", iris.uri)
    with zipfile.ZipFile(tmp_path / "out" / WHEEL) as wheel:
        source = wheel.read("iris_model/__init__.py").decode()
    module = tmp_path / "iris_model.py"
    module.write_text(source)
    for command in (["format", "--check"], ["check", "--select", "E,F,W,I,B,UP,SIM"]):
        done = subprocess.run(
            [str(RUFF), *command, "--isolated", str(module)], capture_output=True, text=True
        )
        assert done.returncode == 0, done.stdout + done.stderr
    assert "def predict_proba(rows: Any) -> Any:" in source
    assert '    "petal width (cm)",\n)' in source  # COLUMNS, one per line
