"""A structural JSON schema of the KServe ``InferenceService`` (serving.kserve.io/v1beta1)
this project writes: a custom predictor container.

KServe's own CRD schema is not published in a package we can depend on (the ``kserve`` SDK
pins pandas < 3 and ships no schema), so this schema is written from KServe's v1beta1 API
reference, for the fields we emit and the predictor's common scaling fields; unknown keys
are errors. The predictor's containers, the metadata and the pod security context are
checked against the Kubernetes definitions bundled by ``kubernetes-validate`` (KServe's
predictor inlines a Kubernetes PodSpec).
"""

from __future__ import annotations

from typing import Any

API_VERSION = "serving.kserve.io/v1beta1"
KIND = "InferenceService"
K8S_DEFINITIONS = "https://kubernetes.io/api/_definitions.json#/$defs/"


def _k8s(definition: str) -> dict[str, str]:
    return {"$ref": f"{K8S_DEFINITIONS}{definition}"}


_COUNT = {"type": "integer", "minimum": 0}

PREDICTOR: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["containers"],
    "properties": {
        "containers": {
            "type": "array",
            "minItems": 1,
            "items": _k8s("io.k8s.api.core.v1.Container"),
        },
        "minReplicas": _COUNT,
        "maxReplicas": _COUNT,
        "canaryTrafficPercent": {"type": "integer", "minimum": 0, "maximum": 100},
        "containerConcurrency": _COUNT,
        "timeout": _COUNT,
        "scaleMetric": {"enum": ["cpu", "memory", "concurrency", "rps"]},
        "scaleTarget": _COUNT,
        "serviceAccountName": {"type": "string"},
        "securityContext": _k8s("io.k8s.api.core.v1.PodSecurityContext"),
        "nodeSelector": {"type": "object", "additionalProperties": {"type": "string"}},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}

INFERENCE_SERVICE: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": API_VERSION},
        "kind": {"const": KIND},
        "metadata": {
            "allOf": [
                _k8s("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
                {
                    "required": ["name"],
                    "properties": {
                        # Knative names the predictor's revisions <name>-predictor-00001:
                        # a DNS-1035 label of at most 63 characters.
                        "name": {
                            "type": "string",
                            "pattern": "^[a-z]([-a-z0-9]*[a-z0-9])?$",
                            "maxLength": 45,
                        }
                    },
                },
            ]
        },
        "spec": {
            "type": "object",
            "additionalProperties": False,
            "required": ["predictor"],
            "properties": {"predictor": PREDICTOR},
        },
    },
}
