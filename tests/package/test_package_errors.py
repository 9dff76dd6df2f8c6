"""``jupyter mlops package`` refuses bad input with a message naming what is wrong and
writes nothing: an unknown format, an alias or version the model does not have, an output
folder that is not a package (unless --force), a bad --model-source; a failing build
leaves the output as it was. An earlier package in the folder is replaced."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from iris_package import NAME, RegisteredIris, register_iris

from jupyter_mlops import api
from jupyter_mlops.deploy.package import build
from jupyter_mlops.errors import DeployError, PromotionError

pytest_plugins = ("mlflow_fixtures",)

CLI = [sys.executable, "-m", "jupyter_mlops.cli"]


@pytest.fixture(scope="module")
def iris(mlflow_db_template: Path, tmp_path_factory: pytest.TempPathFactory) -> RegisteredIris:
    return register_iris(mlflow_db_template, tmp_path_factory.mktemp("store"))


def leftovers(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def test_an_unknown_format_is_refused_naming_the_formats(
    iris: RegisteredIris, tmp_path: Path
) -> None:
    done = subprocess.run(
        [
            *CLI,
            "package",
            NAME,
            "--format",
            "zip",
            "-o",
            str(tmp_path / "out"),
            "--tracking-uri",
            iris.uri,
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert "unknown package format 'zip'" in done.stderr and "wheel" in done.stderr
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        (f"{NAME}@staging", "model 'iris' has no alias 'staging' (aliases: production)"),
        (f"{NAME}/9", "model 'iris' has no version 9"),
        ("nosuch", "no registered model 'nosuch'"),
    ],
)
def test_a_version_the_registry_does_not_have_is_refused(
    iris: RegisteredIris, tmp_path: Path, ref: str, message: str
) -> None:
    with pytest.raises((PromotionError, DeployError)) as error:
        api.package(ref, "wheel", tmp_path / "out", iris.uri)
    assert message in str(error.value)
    assert leftovers(tmp_path) == []


def test_an_output_folder_that_is_not_a_package_is_refused_unless_forced(
    iris: RegisteredIris, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    done = subprocess.run(
        [*CLI, "package", NAME, "--format", "wheel", "-o", str(out), "--tracking-uri", iris.uri],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert f"{out}: the output folder exists and is not a package" in done.stderr
    assert "--force" in done.stderr and leftovers(out) == ["notes.txt"]
    api.package(NAME, "wheel", out, iris.uri, api.PackageOptions(force=True))
    assert leftovers(out) == ["iris_model-1-py3-none-any.whl", "mlops-package.json"]
    assert leftovers(tmp_path) == ["out"]


def test_an_earlier_package_is_replaced(iris: RegisteredIris, tmp_path: Path) -> None:
    out = tmp_path / "out"
    api.package(NAME, "container", out, iris.uri, api.PackageOptions(model_source="registry"))
    assert (out / "Dockerfile").is_file()
    api.package(NAME, "wheel", out, iris.uri)
    assert leftovers(out) == ["iris_model-1-py3-none-any.whl", "mlops-package.json"]
    assert leftovers(tmp_path) == ["out"]


def test_a_failing_build_leaves_the_output_as_it_was(
    iris: RegisteredIris, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    api.package(NAME, "wheel", out, iris.uri)
    before = (out / "iris_model-1-py3-none-any.whl").read_bytes()

    def half_then_fail(source: object, folder: Path, options: object) -> list[Path]:
        (folder / "half-written").write_text("x")
        raise DeployError("the builder failed")

    monkeypatch.setitem(build.FORMATS, "wheel", half_then_fail)
    with pytest.raises(DeployError, match="the builder failed"):
        api.package(NAME, "wheel", out, iris.uri)
    assert leftovers(out) == ["iris_model-1-py3-none-any.whl", "mlops-package.json"]
    assert (out / "iris_model-1-py3-none-any.whl").read_bytes() == before
    assert leftovers(tmp_path) == ["out"]


def test_a_bad_model_source_is_refused(iris: RegisteredIris, tmp_path: Path) -> None:
    with pytest.raises(DeployError, match="--model-source must be one of baked, registry"):
        api.package(
            NAME, "container", tmp_path / "out", iris.uri, api.PackageOptions(model_source="s3")
        )
    assert leftovers(tmp_path) == []


def test_manifest_options_reach_the_manifests_and_bad_ones_are_named(
    iris: RegisteredIris, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--replicas, --resource and --canary-percent from the command line; a malformed
    --resource is a usage error (exit 2) and a bad quantity names its setting."""
    import yaml

    from jupyter_mlops.cli.main import main

    out = tmp_path / "k8s"
    base = ["package", NAME, "-o", str(out), "--tracking-uri", iris.uri]
    kubernetes = [*base, "--format", "kubernetes", "--replicas", "3"]
    assert main([*kubernetes, "--resource", "limits.memory=2Gi"]) == 0
    deployment = next(yaml.safe_load_all((out / "deployment.yaml").read_text()))
    assert deployment["spec"]["replicas"] == 3
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"]["limits"]["memory"] == "2Gi"
    assert container["image"] == f"{NAME}-model:1"
    assert main([*base, "--format", "kserve", "--canary-percent", "10"]) == 0
    service = yaml.safe_load((out / "inferenceservice.yaml").read_text())
    assert service["spec"]["predictor"]["canaryTrafficPercent"] == 10
    capsys.readouterr()
    with pytest.raises(SystemExit) as usage:
        main([*kubernetes, "--resource", "memory"])
    assert usage.value.code == 2
    assert "'memory' is not KIND.NAME=QUANTITY" in capsys.readouterr().err
    assert main([*kubernetes, "--resource", "limits.memory=lots"]) == 2
    assert "limits.memory" in capsys.readouterr().err
