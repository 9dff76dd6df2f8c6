"""The kserve and kubernetes package formats: manifests valid against the bundled
Kubernetes schemas (and the KServe structural schema), deterministic, with probes,
resources, replicas and the canary percentage; invalid settings named by field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from jupyter_mlops.deploy.package.kserve import INFERENCE_SERVICE_FILE, write_kserve
from jupyter_mlops.deploy.package.kubernetes import DEPLOYMENT_FILE, write_kubernetes
from jupyter_mlops.deploy.package.manifest_check import document_problems, validate_manifests
from jupyter_mlops.deploy.package.manifest_spec import ManifestSpec, default_image
from jupyter_mlops.deploy.package.resources import (
    Resources,
    parse_resources,
    resources_from_extra,
)
from jupyter_mlops.errors import DeployError

MODEL = "Churn_Model"
CUSTOM = {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": 2, "memory": "2Gi"}}


def spec(**changes: Any) -> ManifestSpec:
    settings: dict[str, Any] = {
        "model": MODEL,
        "version": "3",
        "image": default_image(MODEL, "3"),
        "resources": parse_resources(CUSTOM, "resources"),
        "replicas": 2,
        **changes,
    }
    return ManifestSpec(**settings)


def documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def test_kubernetes_deployment_and_service_are_valid(tmp_path: Path) -> None:
    [path] = write_kubernetes(spec(), tmp_path)
    assert path.name == DEPLOYMENT_FILE
    assert validate_manifests([path]) == []
    deployment, service = documents(path)
    assert (deployment["kind"], service["kind"]) == ("Deployment", "Service")
    assert deployment["metadata"]["name"] == service["metadata"]["name"] == "churn-model"
    assert deployment["spec"]["replicas"] == 2
    pod = deployment["spec"]["template"]
    assert pod["metadata"]["labels"]["app.kubernetes.io/version"] == "3"
    assert pod["metadata"]["annotations"]["jupyter-mlops/model"] == MODEL
    # The selector leaves the version out: the next version's file rolls the pods over.
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert "app.kubernetes.io/version" not in selector
    assert service["spec"]["selector"] == selector
    assert selector.items() <= pod["metadata"]["labels"].items()
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    [container] = pod["spec"]["containers"]
    assert container["image"] == "churn-model-model:3"
    assert container["ports"][0]["containerPort"] == 8080
    assert container["readinessProbe"]["httpGet"] == {"path": "/health", "port": 8080}
    assert container["livenessProbe"]["httpGet"] == {"path": "/ping", "port": 8080}
    assert container["startupProbe"]["httpGet"]["path"] == "/ping"
    assert container["resources"] == {
        "requests": {"cpu": "500m", "memory": "1Gi"},
        "limits": {"cpu": "2", "memory": "2Gi"},
    }
    assert container["env"][0]["valueFrom"]["secretKeyRef"]["name"] == "churn-model-serve-token"
    assert service["spec"]["ports"][0]["targetPort"] == "http"


def test_kserve_inference_service_with_canary(tmp_path: Path) -> None:
    [path] = write_kserve(spec(canary_percent=10), tmp_path)
    assert path.name == INFERENCE_SERVICE_FILE
    assert validate_manifests([path]) == []
    [service] = documents(path)
    assert (service["apiVersion"], service["kind"]) == (
        "serving.kserve.io/v1beta1",
        "InferenceService",
    )
    predictor = service["spec"]["predictor"]
    assert (predictor["canaryTrafficPercent"], predictor["minReplicas"]) == (10, 2)
    [container] = predictor["containers"]
    assert container["name"] == "kserve-container"
    assert container["readinessProbe"]["httpGet"]["path"] == "/health"
    assert container["livenessProbe"]["httpGet"]["path"] == "/ping"
    assert container["resources"]["limits"] == {"cpu": "2", "memory": "2Gi"}


def test_kserve_without_canary_has_no_canary_key_and_default_resources(tmp_path: Path) -> None:
    [path] = write_kserve(spec(resources=Resources(), replicas=1), tmp_path)
    predictor = documents(path)[0]["spec"]["predictor"]
    assert "canaryTrafficPercent" not in predictor
    assert predictor["containers"][0]["resources"] == {
        "requests": {"cpu": "250m", "memory": "512Mi"},
        "limits": {"cpu": "1", "memory": "1Gi"},
    }


def test_manifests_are_deterministic(tmp_path: Path) -> None:
    for fmt, write in (("kserve", write_kserve), ("kubernetes", write_kubernetes)):
        first, second = tmp_path / f"{fmt}-1", tmp_path / f"{fmt}-2"
        first.mkdir()
        second.mkdir()
        [one] = write(spec(canary_percent=25), first)
        [two] = write(spec(canary_percent=25), second)
        assert one.read_bytes() == two.read_bytes()
        assert one.read_text().startswith("# Model 'Churn_Model' version 3")


@pytest.mark.parametrize(
    ("resources", "field", "problem"),
    [
        ({"limits": {"memory": "lots"}}, "limits.memory", "Kubernetes quantity"),
        ({"requests": {"cpu": "-1"}}, "requests.cpu", "Kubernetes quantity"),
        ({"requests": {"cpu": 0}}, "requests.cpu", "above 0"),
        ({"requests": {"gpu": "1"}}, "requests.gpu", "is unknown"),
        ({"maximum": {"cpu": "1"}}, "maximum", "is unknown"),
        ({"requests": {"memory": "4Gi"}}, "requests.memory", "above limits.memory 1Gi"),
        ({"requests": "1"}, "requests", "must be a mapping"),
    ],
)
def test_invalid_resources_name_the_field(
    resources: dict[str, Any], field: str, problem: str
) -> None:
    with pytest.raises(DeployError) as caught:
        parse_resources(resources, "deploy.k8s.resources")
    assert str(caught.value).startswith(f"deploy.k8s.resources.{field} ")
    assert problem in str(caught.value)


def test_resources_from_package_options_extra() -> None:
    chosen = resources_from_extra({"limits.memory": "2Gi", "other-format-setting": "x"})
    assert (chosen.memory_limit, chosen.cpu_limit) == ("2Gi", "1")
    with pytest.raises(DeployError, match=r"^resources\.limits\.cpu must be"):
        resources_from_extra({"limits.cpu": "two"})
    assert resources_from_extra(chosen.to_extra()) == chosen


def test_an_invalid_manifest_is_not_written(tmp_path: Path) -> None:
    with pytest.raises(DeployError) as caught:
        write_kserve(spec(canary_percent=150), tmp_path)
    assert "spec.predictor.canaryTrafficPercent: 150 is greater than the maximum of 100" in str(
        caught.value
    )
    assert list(tmp_path.iterdir()) == []


def test_validation_names_file_kind_and_field(tmp_path: Path) -> None:
    [path] = write_kubernetes(spec(), tmp_path)
    deployment, service = documents(path)
    deployment["spec"]["replicas"] = "two"
    deployment["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] = 3
    service["spec"]["colour"] = "blue"
    path.write_text(yaml.safe_dump_all([deployment, service]))
    problems = validate_manifests([path])
    assert problems == [
        "deployment.yaml: Deployment churn-model: spec.replicas: 'two' is not of type "
        "'integer', 'null'",
        "deployment.yaml: Deployment churn-model: spec.template.spec.containers[0]."
        "imagePullPolicy: 3 is not of type 'string', 'null'",
        "deployment.yaml: Service churn-model: spec: Additional properties are not allowed "
        "('colour' was unexpected)",
    ]


def test_kserve_structure_is_checked() -> None:
    service: dict[str, Any] = {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {"name": "Bad_Name"},
        "spec": {"predictor": {"containers": [{"name": "c", "image": "i", "colour": 1}]}},
        "extra": True,
    }
    problems = document_problems(service)
    assert any("(top): Additional properties are not allowed ('extra'" in p for p in problems)
    assert any(
        p.startswith("InferenceService Bad_Name: metadata.name: 'Bad_Name' does not match")
        for p in problems
    )
    assert any("spec.predictor.containers[0]: Additional properties" in p for p in problems)
    assert document_problems({"apiVersion": "example.com/v1", "kind": "Widget"}) == [
        "Widget (no name): no schema for kind Widget of example.com/v1"
    ]


def test_unreadable_manifest_files_are_problems(tmp_path: Path) -> None:
    broken, empty = tmp_path / "broken.yaml", tmp_path / "empty.yaml"
    broken.write_text("kind: [unclosed\n")
    empty.write_text("# nothing\n")
    problems = validate_manifests([broken, empty])
    assert problems[0].startswith("broken.yaml: cannot be read as YAML")
    assert problems[1] == "empty.yaml: holds no manifest"
