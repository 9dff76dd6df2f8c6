"""The checks of a package build that do not need a registry: listed files present,
hadolint findings in a Dockerfile, schema problems of manifests."""

from __future__ import annotations

import json
from pathlib import Path

from jupyter_mlops.deploy.package.kubernetes import write_kubernetes
from jupyter_mlops.deploy.package.manifest_spec import ManifestSpec
from jupyter_mlops.deploy.package.verify import (
    failed,
    files_check,
    hadolint_check,
    schema_check,
    verify_package,
)

CLEAN = """FROM python:3.11-slim
RUN useradd --create-home --uid 10001 mlops
USER 10001
CMD ["python", "-c", "print(1)"]
"""


def marker(folder: Path, *files: str) -> None:
    (folder / "mlops-package.json").write_text(json.dumps({"files": list(files)}))


def test_missing_or_empty_listed_files_fail(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(CLEAN)
    (tmp_path / "empty.txt").write_text("")
    marker(tmp_path, "Dockerfile", "empty.txt", "gone.txt")
    check = files_check(tmp_path)
    assert (check.name, check.value, check.passed) == ("missing_files", 2.0, False)
    assert check.detail == "missing or empty: empty.txt, gone.txt"
    marker(tmp_path, "Dockerfile")
    assert files_check(tmp_path).passed
    (tmp_path / "mlops-package.json").unlink()
    assert "unreadable" in files_check(tmp_path).detail


def test_hadolint_findings_fail_the_container(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(CLEAN)
    marker(tmp_path, "Dockerfile")
    assert [check.passed for check in verify_package("container", tmp_path, "", "m", "1")] == [
        True,
        True,
    ]
    dockerfile.write_text("FROM python\nRUN apt-get install curl\n")
    check = hadolint_check(dockerfile)
    assert (check.name, check.passed) == ("hadolint_findings", False)
    assert check.value is not None and check.value >= 2
    assert "DL3006" in check.detail  # the base image's tag is not pinned
    assert not hadolint_check(tmp_path / "Nothing").passed


def test_schema_problems_fail_the_manifests(tmp_path: Path) -> None:
    [path] = write_kubernetes(ManifestSpec("m", "1", "m-model:1"), tmp_path)
    marker(tmp_path, path.name)
    assert failed(verify_package("kubernetes", tmp_path, "", "m", "1")) == []
    path.write_text(path.read_text().replace("replicas: 1", "replicas: one"))
    check = schema_check([path])
    assert (check.name, check.value, check.passed) == ("schema_problems", 1.0, False)
    assert "spec.replicas: 'one' is not of type" in check.detail
    assert schema_check([]).detail == "no manifest was written"
