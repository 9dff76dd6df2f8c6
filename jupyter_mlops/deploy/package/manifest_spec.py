"""What the kserve and kubernetes formats share: the settings of a manifest
(``ManifestSpec``), Kubernetes names and labels, the model's container (the package's
container image serving on port 8080, probed on ``/health`` and ``/ping``) and writing
checked YAML in a fixed key order (validated by ``manifest_check.py`` first: an invalid
manifest is never written)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyter_mlops.deploy.package.resources import Resources
from jupyter_mlops.errors import DeployError

PORT = 8080
READY_PATH = "/health"
LIVE_PATH = "/ping"
RUN_AS_USER = 10001  # the non-root user of the container format's Dockerfile
MANAGER = "jupyter-mlops"
TOKEN_ENV = "JUPYTER_MLOPS_SERVE_TOKEN"  # the service's bearer token (required off loopback)
TOKEN_KEY = "token"
MODEL_ANNOTATION = "jupyter-mlops/model"
VERSION_ANNOTATION = "jupyter-mlops/model-version"
MAX_NAME = 63
_NOT_DNS = re.compile(r"[^a-z0-9-]+")
_NOT_LABEL = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class ManifestSpec:
    """Run version ``version`` of model ``model`` from container image ``image``."""

    model: str
    version: str
    image: str
    resources: Resources = field(default_factory=Resources)
    replicas: int = 1
    canary_percent: int | None = None  # kserve: the new revision's share of traffic

    @property
    def name(self) -> str:
        """The Kubernetes name of the model's objects."""
        return dns_name(self.model)

    @property
    def token_secret(self) -> str:
        """The Secret holding the service's bearer token under key ``token``."""
        return f"{self.name}-serve-token"


def default_image(model: str, version: str) -> str:
    """``<model>-model:<version>``, the container format's image name."""
    return f"{dns_name(model)}-model:{version}"


def dns_name(text: str, limit: int = MAX_NAME) -> str:
    """``text`` as a DNS-1035 label (lower case, ``-``, starting with a letter)."""
    name = _NOT_DNS.sub("-", text.lower()).strip("-")
    if not name or not name[0].isalpha():
        name = f"m-{name}".rstrip("-")
    return name[:limit].rstrip("-")


def label_value(text: str) -> str:
    """``text`` as a Kubernetes label value (63 characters, alphanumeric at both ends)."""
    return _NOT_LABEL.sub("-", text)[:MAX_NAME].strip("-_.")


def labels(spec: ManifestSpec) -> dict[str, str]:
    """The labels of every object of the model; ``selector_labels`` select its pods."""
    return {
        **selector_labels(spec),
        "app.kubernetes.io/version": label_value(spec.version),
        "app.kubernetes.io/managed-by": MANAGER,
    }


def selector_labels(spec: ManifestSpec) -> dict[str, str]:
    """Labels that stay the same across versions (a Deployment's selector cannot change)."""
    return {"app.kubernetes.io/name": spec.name, "app.kubernetes.io/component": "model-server"}


def model_annotations(spec: ManifestSpec) -> dict[str, str]:
    """The registered model and version, as given."""
    return {MODEL_ANNOTATION: spec.model, VERSION_ANNOTATION: spec.version}


def model_container(
    spec: ManifestSpec, name: str, port_name: str, startup_seconds: int | None = None
) -> dict[str, Any]:
    """The container serving the model: ready on ``/health`` (a version loaded), alive on
    ``/ping``, with the requests and limits of ``spec``, as a non-root user, its bearer
    token from Secret ``spec.token_secret`` (key ``token``); with
    ``startup_seconds``, a startup probe lets the model load that long before the
    liveness probe counts."""
    container: dict[str, Any] = {
        "name": name,
        "image": spec.image,
        "ports": [{"name": port_name, "containerPort": PORT, "protocol": "TCP"}],
        "env": [
            {
                "name": TOKEN_ENV,
                "valueFrom": {"secretKeyRef": {"name": spec.token_secret, "key": TOKEN_KEY}},
            }
        ],
    }
    if startup_seconds is not None:
        container["startupProbe"] = _probe(LIVE_PATH, period=5, failures=startup_seconds // 5)
    container["readinessProbe"] = _probe(READY_PATH, period=5, failures=3)
    container["livenessProbe"] = _probe(LIVE_PATH, period=10, failures=6)
    container["resources"] = spec.resources.to_json()
    container["securityContext"] = {
        "runAsNonRoot": True,
        "runAsUser": RUN_AS_USER,
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
    }
    return container


def _probe(path: str, period: int, failures: int) -> dict[str, Any]:
    return {
        "httpGet": {"path": path, "port": PORT},
        "periodSeconds": period,
        "timeoutSeconds": 2,
        "failureThreshold": failures,
    }


def write_manifest(path: Path, documents: list[dict[str, Any]], spec: ManifestSpec) -> Path:
    """Check ``documents`` against their schemas, then write them to ``path`` as YAML
    (atomically); ``DeployError`` naming the first invalid field, nothing written."""
    from jupyter_mlops.deploy.package.manifest_check import document_problems

    problems = [problem for document in documents for problem in document_problems(document)]
    if problems:
        raise DeployError(f"{path.name} would be invalid: {'; '.join(problems)}", path=str(path))
    text = manifest_text(documents, spec)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)
    return path


def manifest_text(documents: list[dict[str, Any]], spec: ManifestSpec) -> str:
    """The documents as YAML in their own key order, after a comment saying what they run."""
    import yaml

    class _Dumper(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:
            return True

    header = (
        f"# Model '{spec.model}' version {spec.version} from image {spec.image}.\n"
        "# Written by `jupyter mlops package`. The service's bearer token comes from a Secret:\n"
        f"#   kubectl create secret generic {spec.token_secret} "
        "--from-literal=token=$(openssl rand -hex 16)\n"
        "# then: kubectl apply -f this file.\n"
    )
    body = yaml.dump_all(
        documents, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=100
    )
    return header + body
