"""The ``kserve`` format: a KServe ``InferenceService`` (serving.kserve.io/v1beta1) whose
predictor is the package's container image, in ``inferenceservice.yaml``.

The predictor is a custom container (``kserve-container``, port 8080), ready on ``/health``
and alive on ``/ping``, at least ``replicas`` replicas. With a canary percentage, applying
the file over a running InferenceService sends that share of traffic to the new revision
(KServe's ``canaryTrafficPercent``); raise it to 100, or remove it, to promote.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jupyter_mlops.deploy.package.kserve_schema import API_VERSION, KIND
from jupyter_mlops.deploy.package.manifest_spec import (
    ManifestSpec,
    dns_name,
    labels,
    model_annotations,
    model_container,
    write_manifest,
)

INFERENCE_SERVICE_FILE = "inferenceservice.yaml"
MAX_NAME = 45  # Knative's revision names (<name>-predictor-00001) must stay within 63


def write_kserve(spec: ManifestSpec, out: Path) -> list[Path]:
    """Write ``inferenceservice.yaml`` into folder ``out``, checked."""
    return [write_manifest(out / INFERENCE_SERVICE_FILE, [inference_service(spec)], spec)]


def inference_service(spec: ManifestSpec) -> dict[str, Any]:
    """The InferenceService of ``spec``."""
    predictor: dict[str, Any] = {"minReplicas": spec.replicas}
    if spec.canary_percent is not None:
        predictor["canaryTrafficPercent"] = spec.canary_percent
    predictor["containers"] = [model_container(spec, "kserve-container", "http1")]
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {
            "name": dns_name(spec.model, MAX_NAME),
            "labels": labels(spec),
            "annotations": model_annotations(spec),
        },
        "spec": {"predictor": predictor},
    }
