"""What a package is built from: one registered model version, downloaded and seal-checked,
with what its MLmodel file says (signature, flavors, input example) and its pinned
requirements."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jupyter_mlops.artifacts.trust import folder_digest
from jupyter_mlops.errors import DeployError


@dataclass(frozen=True)
class PackageSource:
    """A sealed local copy of version ``version`` of registered model ``name``.

    ``signature`` holds the MLflow signature's ``inputs`` and ``outputs`` as lists of
    column specs (``{"name": ..., "type": ...}``), or is None when it was logged without
    one; ``requirements`` are the lines of the model's ``requirements.txt``;
    ``input_example`` is a pandas DataFrame or None; ``digest`` is the folder's sha256
    (``artifacts.trust.folder_digest``), the one its seal covers.
    """

    name: str
    version: str
    alias: str | None
    tracking_uri: str
    folder: Path
    digest: str
    signature: dict[str, Any] | None
    requirements: tuple[str, ...]
    flavors: tuple[str, ...]
    input_example: Any

    @property
    def columns(self) -> tuple[str, ...]:
        """The input column names of the signature (empty without a named signature)."""
        if not self.signature:
            return ()
        return tuple(str(spec["name"]) for spec in self.signature["inputs"] if "name" in spec)


def read_source(
    folder: Path, name: str, version: str, alias: str | None, tracking_uri: str
) -> PackageSource:
    """The ``PackageSource`` of a downloaded, seal-checked model folder; ``DeployError``
    naming the file when its MLmodel or requirements.txt is missing."""
    from mlflow.models import Model

    if not (folder / "MLmodel").is_file():
        raise DeployError("the model folder has no MLmodel file", path=str(folder / "MLmodel"))
    model = Model.load(str(folder))
    return PackageSource(
        name=name,
        version=version,
        alias=alias,
        tracking_uri=tracking_uri,
        folder=folder,
        digest=folder_digest(folder),
        signature=_signature(model),
        requirements=read_requirements(folder / "requirements.txt"),
        flavors=tuple(sorted(model.flavors)),
        input_example=model.load_input_example(str(folder)),
    )


def _signature(model: Any) -> dict[str, Any] | None:
    if model.signature is None:
        return None
    raw = model.signature.to_dict()
    return {key: json.loads(raw[key]) if raw.get(key) else None for key in ("inputs", "outputs")}


def read_requirements(path: Path) -> tuple[str, ...]:
    """The requirement lines of a ``requirements.txt`` (comments and blanks left out)."""
    if not path.is_file():
        raise DeployError(
            "the model has no requirements.txt: it cannot be packaged with pinned "
            "requirements (register it again with jupyter_mlops)",
            path=str(path),
        )
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return tuple(line for line in lines if line)
