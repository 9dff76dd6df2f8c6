"""What a generated step notebook calls to read its inputs and hand back its outputs.

A contract between step notebooks and the runner:

- ``load_input(path)`` loads one artifact object file, given by path;
- ``save_outputs(output_dir, outputs)`` stores each output in the content-addressed store and
  writes ``<output_dir>/outputs.json`` = ``{name: ArtifactRef dict}``; the runner reads it back
  with ``read_outputs(output_dir)`` once the notebook has finished.

The store used by ``save_outputs`` is ``$JUPYTER_MLOPS_STORE`` when that variable is set (the
runner sets it to the pipeline's store), else ``<output_dir>/.store``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from jupyter_mlops.artifacts.store import ArtifactRef, ArtifactStore, load_object, write_json_atomic
from jupyter_mlops.errors import ArtifactError

STORE_ENV = "JUPYTER_MLOPS_STORE"
OUTPUTS_FILE = "outputs.json"
DEFAULT_STORE_DIRNAME = ".store"


def load_input(path: str) -> Any:
    """Load the artifact object file at ``path``, with the serializer recorded beside it.

    ``ArtifactError`` naming the path when the file is missing, corrupt or unreadable.
    """
    return load_object(path)


def store_for(output_dir: str) -> ArtifactStore:
    """The store of ``save_outputs``: ``$JUPYTER_MLOPS_STORE``, else ``<output_dir>/.store``."""
    root = os.environ.get(STORE_ENV) or os.path.join(output_dir, DEFAULT_STORE_DIRNAME)
    return ArtifactStore(root)


def save_outputs(output_dir: str, outputs: dict[str, Any]) -> None:
    """Store each output and write ``<output_dir>/outputs.json`` atomically.

    The store is ``$JUPYTER_MLOPS_STORE`` when set, else ``<output_dir>/.store``. An existing
    ``outputs.json`` is removed first, so a failed save never leaves stale refs behind.
    ``ArtifactError`` naming the output when one cannot be serialized.
    """
    for name in outputs:
        if not isinstance(name, str) or not name:
            raise ArtifactError(f"output names must be non-empty strings, got {name!r}")
    directory = Path(output_dir)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / OUTPUTS_FILE).unlink(missing_ok=True)
    store = store_for(output_dir)
    refs = {name: store.put(name, value).to_dict() for name, value in outputs.items()}
    write_json_atomic(directory / OUTPUTS_FILE, refs)


def read_outputs(output_dir: str) -> dict[str, ArtifactRef]:
    """The refs ``save_outputs`` wrote to ``<output_dir>/outputs.json``.

    ``ArtifactError`` naming the file when it is missing (the step did not save its outputs)
    or invalid.
    """
    path = Path(output_dir) / OUTPUTS_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ArtifactError(
            "no outputs.json: the step did not reach save_outputs", path=str(path)
        ) from exc
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"outputs.json is unreadable: {exc}", path=str(path)) from exc
    if not isinstance(data, dict):
        raise ArtifactError("outputs.json must hold an object of refs", path=str(path))
    return {name: ArtifactRef.from_dict(ref) for name, ref in data.items()}
