"""Offline validation of Kubernetes manifests: core kinds against the strict JSON schemas
``kubernetes-validate`` bundles (its newest Kubernetes version; unknown keys are errors),
a KServe ``InferenceService`` against ``kserve_schema.py``.

Problems read ``deployment.yaml: Deployment churn: spec.replicas: -1 is less than the
minimum of 0``: file, kind, name, the field's path, what is wrong.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from jupyter_mlops.deploy.package import kserve_schema
from jupyter_mlops.errors import DeployError

INSTALL_HINT = "install it with `pip install 'jupyter-mlops[k8s]'`"


def validate_manifests(paths: Iterable[Path]) -> list[str]:
    """The problems of the YAML manifests at ``paths`` (every document of each); empty when
    all are valid."""
    import yaml

    problems = []
    for path in paths:
        try:
            documents = [doc for doc in yaml.safe_load_all(path.read_text("utf-8")) if doc]
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
            problems.append(f"{path.name}: cannot be read as YAML: {error}")
            continue
        if not documents:
            problems.append(f"{path.name}: holds no manifest")
        for document in documents:
            problems += [f"{path.name}: {problem}" for problem in document_problems(document)]
    return problems


def document_problems(document: Any) -> list[str]:
    """What is wrong with one manifest, each naming the field's path; empty when valid."""
    if not isinstance(document, dict):
        return [f"a manifest must be a mapping, not {type(document).__name__}"]
    api_version, kind = document.get("apiVersion"), document.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str):
        return ["a manifest needs apiVersion and kind (strings)"]
    metadata = document.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    subject = f"{kind} {name or '(no name)'}"
    validator = _validator(api_version, kind)
    if validator is None:
        return [f"{subject}: no schema for kind {kind} of {api_version}"]
    errors = sorted(validator.iter_errors(document), key=lambda error: _field(error.absolute_path))
    return [
        f"{subject}: {_field(error.absolute_path) or '(top)'}: {error.message}" for error in errors
    ]


def _field(path: Sequence[Any]) -> str:
    """``spec.template.spec.containers[0].image``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text


@functools.lru_cache(maxsize=16)
def _validator(api_version: str, kind: str) -> Any:
    """A JSON-schema validator of ``kind``; None when no schema is known."""
    import jsonschema

    definitions, folder = _kubernetes_definitions()
    schema: dict[str, Any] | None
    if (api_version, kind) == (kserve_schema.API_VERSION, kserve_schema.KIND):
        schema = kserve_schema.INFERENCE_SERVICE
    else:
        schema = _kubernetes_schema(folder, api_version, kind)
        if schema is None:
            return None
    from referencing import Registry, Resource

    registry: Registry[Any] = Resource.from_contents(definitions) @ Registry()
    return jsonschema.Draft202012Validator(schema, registry=registry)


@functools.lru_cache(maxsize=1)
def _kubernetes_definitions() -> tuple[dict[str, Any], Any]:
    """The shared definitions of the newest bundled Kubernetes version, and its folder."""
    import json
    from importlib.resources import files

    try:
        import kubernetes_validate
    except ImportError:
        raise DeployError(
            f"checking Kubernetes manifests needs kubernetes-validate: {INSTALL_HINT}"
        ) from None
    version = kubernetes_validate.latest_version()
    folder = files("kubernetes_validate") / "kubernetes-json-schema" / f"v{version}-local-strict"
    definitions = json.loads((folder / "_definitions.json").read_text("utf-8"))
    return definitions, folder


def _kubernetes_schema(folder: Any, api_version: str, kind: str) -> dict[str, Any] | None:
    """The strict schema of ``kind`` in ``api_version`` (``apps/v1`` → ``…-apps-v1.json``)."""
    import json

    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    schema_file = folder / f"{kind.lower()}-{group_version}.json"
    if not schema_file.is_file():
        return None
    schema: dict[str, Any] = json.loads(schema_file.read_text("utf-8"))
    return schema
