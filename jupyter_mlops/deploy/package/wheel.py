"""The ``wheel`` format: the model embedded in an application as a library.

``<model>_model-<version>-py3-none-any.whl`` holds the model folder as package data, its
signature (``signature.json``) and a generated ``__init__.py`` exposing ``predict(rows)``,
``predict_proba(rows)`` where the model has it, ``signature``, ``model_name``,
``model_version``; it requires the model's pinned requirements. Built twice for the same
version, the wheel is byte-for-byte the same.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from jupyter_mlops.deploy.package.build import FORMATS, PackageOptions
from jupyter_mlops.deploy.package.source import PackageSource
from jupyter_mlops.deploy.package.wheel_archive import (
    check_version,
    folder_files,
    metadata_text,
    write_wheel,
)
from jupyter_mlops.deploy.package.wheel_module import module_text
from jupyter_mlops.errors import DeployError

SKIPPED = frozenset({"registered_model_meta"})
"""MLflow's own bookkeeping in a downloaded model folder (not part of the sealed model)."""


def package_name(model: str) -> str:
    """The import (and distribution) name of a model's wheel: ``Churn-v2`` → ``churn_v2_model``."""
    identifier = re.sub(r"\W+", "_", model.lower()).strip("_") or "unnamed"
    if identifier[0].isdigit():
        identifier = f"m_{identifier}"
    return f"{identifier}_model"


def build_wheel(source: PackageSource, out: Path, options: PackageOptions) -> list[Path]:
    """Write the model's wheel into ``out``."""
    name = package_name(source.name)
    version = check_version(source.version)
    has_proba = _has_predict_proba(source)
    files = folder_files(source.folder, f"{name}/model", SKIPPED)
    files[f"{name}/__init__.py"] = module_text(source, name, has_proba).encode()
    files[f"{name}/signature.json"] = _signature_json(source).encode()
    summary = f"Model '{source.name}' version {source.version}, packaged by jupyter_mlops"
    metadata = metadata_text(name, version, summary, requirements(source))
    return [write_wheel(out, name, version, files, metadata)]


def requirements(source: PackageSource) -> list[str]:
    """The model's requirements as ``Requires-Dist`` lines, plus ``mlflow`` (pinned to this
    install) when the model does not name it; ``DeployError`` naming a line that is not a
    PEP 508 requirement."""
    from importlib.metadata import version

    from packaging.requirements import InvalidRequirement, Requirement

    lines = []
    for line in source.requirements:
        try:
            lines.append(str(Requirement(line)))
        except InvalidRequirement:
            raise DeployError(
                f"requirements.txt line '{line}' is not a PEP 508 requirement: a wheel "
                "cannot require it",
                path=str(source.folder / "requirements.txt"),
            ) from None
    if not any(Requirement(line).name.lower() == "mlflow" for line in lines):
        lines.insert(0, f"mlflow=={version('mlflow')}")
    return lines


def _has_predict_proba(source: PackageSource) -> bool:
    """Whether the model object has ``predict_proba`` (loaded from the sealed folder)."""
    from jupyter_mlops.registry.sealed_model import load_model_object

    return callable(getattr(load_model_object(source.folder), "predict_proba", None))


def _signature_json(source: PackageSource) -> str:
    return json.dumps(source.signature, indent=2, sort_keys=True) + "\n"


FORMATS["wheel"] = build_wheel
