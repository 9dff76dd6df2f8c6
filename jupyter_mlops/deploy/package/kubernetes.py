"""The ``kubernetes`` format: a Deployment running the package's container image and a
ClusterIP Service in front of it, both in ``deployment.yaml`` (two YAML documents, applied
together with ``kubectl apply -f deployment.yaml``).

The pods run as a non-root user with no privilege escalation and the runtime's default
seccomp profile; a startup probe gives the model up to five minutes to load before the
liveness probe counts. The Deployment's selector leaves the version out, so applying the
next version's file rolls the pods over in place.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jupyter_mlops.deploy.package.manifest_spec import (
    RUN_AS_USER,
    ManifestSpec,
    labels,
    model_annotations,
    model_container,
    selector_labels,
    write_manifest,
)

DEPLOYMENT_FILE = "deployment.yaml"
SERVICE_PORT = 80
STARTUP_SECONDS = 300


def write_kubernetes(spec: ManifestSpec, out: Path) -> list[Path]:
    """Write ``deployment.yaml`` (Deployment + Service) into folder ``out``, checked."""
    return [write_manifest(out / DEPLOYMENT_FILE, kubernetes_documents(spec), spec)]


def kubernetes_documents(spec: ManifestSpec) -> list[dict[str, Any]]:
    """The Deployment and the Service of ``spec``."""
    return [deployment(spec), service(spec)]


def deployment(spec: ManifestSpec) -> dict[str, Any]:
    """A Deployment of ``spec.replicas`` pods serving the model on port 8080."""
    container = model_container(spec, "model", "http", STARTUP_SECONDS)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _metadata(spec),
        "spec": {
            "replicas": spec.replicas,
            "selector": {"matchLabels": selector_labels(spec)},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
            },
            "template": {
                "metadata": {"labels": labels(spec), "annotations": model_annotations(spec)},
                "spec": {
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": RUN_AS_USER,
                        "runAsGroup": RUN_AS_USER,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [container],
                },
            },
        },
    }


def service(spec: ManifestSpec) -> dict[str, Any]:
    """A ClusterIP Service on port 80 forwarding to the pods' port 8080."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(spec),
        "spec": {
            "type": "ClusterIP",
            "selector": selector_labels(spec),
            "ports": [
                {"name": "http", "port": SERVICE_PORT, "targetPort": "http", "protocol": "TCP"}
            ],
        },
    }


def _metadata(spec: ManifestSpec) -> dict[str, Any]:
    return {"name": spec.name, "labels": labels(spec), "annotations": model_annotations(spec)}
