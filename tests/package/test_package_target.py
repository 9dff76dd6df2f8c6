"""The ``package`` deploy target: its settings checked key by key, and deploys that build,
verify and swap in a package (keeping the previous build), roll back on a failed check
with the output untouched, and roll back on request."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from mlflow_fixtures import client_for
from nbfactory import write_notebook
from service_process import new_store, register

from jupyter_mlops import api
from jupyter_mlops.deploy.package.build import PackageOptions, build_package
from jupyter_mlops.deploy.package.deploy import package_state
from jupyter_mlops.deploy.package.resources import Resources
from jupyter_mlops.deploy.package.target import PackageTarget
from jupyter_mlops.deploy.rollout.result import PROMOTED, ROLLED_BACK, RolloutEvent
from jupyter_mlops.deploy.targets import parse_target
from jupyter_mlops.errors import DeployError
from jupyter_mlops.registry.alias_history import alias_history

NAME = "flowers"
DEPLOY = """
deploy:
  cluster:
    kind: package
    format: kubernetes
    output: build/k8s
    replicas: 2
    resources: {limits: {memory: 2Gi}}
  embedded:
    kind: package
    format: wheel
    alias: embedded
"""


@pytest.fixture
def store(mlflow_db_template: Path, tmp_path: Path) -> str:
    """``flowers`` versions 1 and 2 (two different trees, no alias yet)."""
    from sklearn.datasets import load_iris
    from sklearn.tree import DecisionTreeClassifier

    frame = load_iris(as_frame=True).frame.drop(columns="target")
    target = load_iris().target
    uri = new_store(mlflow_db_template, tmp_path / "store")
    for depth in (1, 3):
        model = DecisionTreeClassifier(max_depth=depth, random_state=0).fit(frame, target)
        register(uri, NAME, model, frame, alias=None)
    return uri


@pytest.fixture
def pipeline(tmp_path: Path) -> Path:
    """An extracted pipeline registering model ``flowers``, with the deploy: section above."""
    from jupyter_mlops.authoring.scan import scan_notebook
    from jupyter_mlops.extract.writer import write_package

    notebook = write_notebook(
        tmp_path / f"{NAME}.ipynb", ["%%mlstep train --model model\nmodel = 1"]
    )
    folder = tmp_path / "pipelines" / NAME
    write_package(scan_notebook(notebook), folder)
    yaml_file = folder / "pipeline.yaml"
    yaml_file.write_text(yaml_file.read_text() + DEPLOY)
    return folder


def package_target(pipeline: Path, name: str) -> PackageTarget:
    target = api.deploy_target(pipeline, name)
    assert isinstance(target, PackageTarget)
    return target


def built(output: Path) -> dict[str, Any]:
    marker: dict[str, Any] = json.loads((output / "mlops-package.json").read_text())
    return marker


def moves(uri: str, alias: str) -> list[tuple[str | None, str | None, str]]:
    history = alias_history(client_for(uri), NAME, alias)
    return [(move.from_version, move.to_version, move.reason) for move in history]


# --- settings -----------------------------------------------------------------------------


def test_package_target_settings(pipeline: Path) -> None:
    cluster = package_target(pipeline, "cluster")
    assert (cluster.kind, cluster.format, cluster.alias, cluster.replicas) == (
        "package",
        "kubernetes",
        "production",
        2,
    )
    assert cluster.output == str(pipeline / "build" / "k8s")
    assert cluster.previous_output == pipeline / "build" / "k8s.previous"
    assert cluster.resources == Resources(memory_limit="2Gi")
    embedded = package_target(pipeline, "embedded")
    assert embedded.output == str(pipeline / "packages" / "embedded")
    assert embedded.to_json()["resources"] == Resources().to_json()


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({}, "deploy.t.format must be one of wheel, container, kserve, kubernetes, not None"),
        ({"format": "zip"}, "deploy.t.format must be one of"),
        (
            {"format": "wheel", "image": "x:1"},
            "deploy.t.image applies to format kserve or kubernetes, not wheel",
        ),
        (
            {"format": "kubernetes", "canary_percent": 10},
            "deploy.t.canary_percent applies to format kserve, not kubernetes",
        ),
        (
            {"format": "kserve", "canary_percent": 101},
            "deploy.t.canary_percent must be an integer percentage 0..100",
        ),
        ({"format": "kserve", "replicas": 0}, "deploy.t.replicas must be an integer ≥ 1"),
        (
            {"format": "kserve", "resources": {"limits": {"cpu": "1 core"}}},
            "deploy.t.resources.limits.cpu must be a Kubernetes quantity",
        ),
        (
            {"format": "container", "model_source": "s3"},
            "deploy.t.model_source must be one of baked, registry",
        ),
        ({"format": "wheel", "output": ""}, "deploy.t.output must be a non-empty string"),
        ({"format": "wheel", "url": "http://x"}, "deploy.t.url is unknown"),
    ],
)
def test_bad_package_settings_name_the_key(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(DeployError) as caught:
        parse_target("t", {"kind": "package", **settings})
    assert str(caught.value).startswith(message)


# --- building through the format registry -------------------------------------------------


def test_kserve_format_builds_from_the_registry(store: str, tmp_path: Path) -> None:
    from jupyter_mlops.deploy.package.manifest_check import validate_manifests

    options = PackageOptions(canary_percent=20, replicas=3, extra={"requests.cpu": "100m"})
    result = build_package(store, NAME, "2", "kserve", tmp_path / "isvc", options)
    assert result.files == ("inferenceservice.yaml",)
    path = tmp_path / "isvc" / "inferenceservice.yaml"
    assert validate_manifests([path]) == []
    predictor = yaml.safe_load(path.read_text())["spec"]["predictor"]
    assert (predictor["canaryTrafficPercent"], predictor["minReplicas"]) == (20, 3)
    container = predictor["containers"][0]
    assert (container["image"], container["resources"]["requests"]["cpu"]) == (
        "flowers-model:2",
        "100m",
    )
    assert "docker build -t flowers-model:2" in result.notes[0]


def test_a_bad_resource_option_fails_the_build_naming_it(store: str, tmp_path: Path) -> None:
    options = PackageOptions(extra={"limits.memory": "plenty"})
    with pytest.raises(DeployError, match=r"^resources\.limits\.memory must be a Kubernetes"):
        build_package(store, NAME, "1", "kubernetes", tmp_path / "k8s", options)
    assert not (tmp_path / "k8s").exists()


# --- deploy and rollback ------------------------------------------------------------------


def test_deploy_swaps_the_build_in_and_rollback_restores_the_previous(
    store: str, pipeline: Path
) -> None:
    output = pipeline / "build" / "k8s"
    events: list[RolloutEvent] = []
    first = api.deploy(pipeline, "cluster", version="1", tracking_uri=store, progress=events.append)
    assert first.outcome == PROMOTED, first.reason
    assert [check.name for check in first.checks] == ["missing_files", "schema_problems"]
    assert all(check.passed for check in first.checks)
    assert [event.kind for event in events] == ["start", "build", "verify", "promoted"]
    assert built(output)["version"] == "1"
    assert not (pipeline / "build" / "k8s.previous").exists()
    with pytest.raises(DeployError, match="already holds version 1, built in .*k8s"):
        api.deploy(pipeline, "cluster", version="1", tracking_uri=store)
    with pytest.raises(DeployError, match="model 'flowers' has no version 9"):
        api.deploy(pipeline, "cluster", version="9", tracking_uri=store)

    second = api.deploy(pipeline, "cluster", version="2", tracking_uri=store)
    assert (second.outcome, second.stable, second.candidate) == (PROMOTED, "1", "2")
    assert built(output)["version"] == "2"
    assert built(pipeline / "build" / "k8s.previous")["version"] == "1"
    deployment = next(yaml.safe_load_all((output / "deployment.yaml").read_text()))
    assert deployment["spec"]["replicas"] == 2
    assert deployment["metadata"]["labels"]["app.kubernetes.io/version"] == "2"
    assert sorted(p.name for p in output.parent.iterdir()) == ["k8s", "k8s.previous"]

    target = package_target(pipeline, "cluster")
    state = package_state(target, NAME, store)
    assert (state["version"], state["previous_version"], state["format"]) == (
        "2",
        "1",
        "kubernetes",
    )
    verification = api.deployments(pipeline, store)["targets"][0]["verification"]
    assert (verification["rollout"], verification["outcome"]) == (second.rollout, PROMOTED)
    assert state["built_at"] is not None

    rolled = api.rollback_target(pipeline, "cluster", tracking_uri=store)
    assert (rolled.move.from_version, rolled.move.to_version) == ("2", "1")
    assert built(output)["version"] == "1"
    assert built(pipeline / "build" / "k8s.previous")["version"] == "2"
    assert moves(store, "production") == [
        (None, "1", "deploy"),
        ("1", "2", "deploy"),
        ("2", "1", "rollback"),
    ]


def test_rollback_without_a_previous_build_is_refused(store: str, pipeline: Path) -> None:
    with pytest.raises(DeployError, match="has no previous build in .*k8s.previous"):
        api.rollback_target(pipeline, "cluster", tracking_uri=store)
    assert api.deploy(pipeline, "cluster", version="1", tracking_uri=store).promoted
    with pytest.raises(DeployError, match="has no previous build"):
        api.rollback_target(pipeline, "cluster", tracking_uri=store)
    assert built(pipeline / "build" / "k8s")["version"] == "1"


def test_an_output_folder_that_is_not_a_package_is_refused(store: str, pipeline: Path) -> None:
    output = pipeline / "build" / "k8s"
    output.mkdir(parents=True)
    (output / "notes.txt").write_text("mine")
    with pytest.raises(DeployError, match="the output folder exists and is not a package"):
        api.deploy(pipeline, "cluster", version="1", tracking_uri=store)
    assert [p.name for p in output.iterdir()] == ["notes.txt"]
    assert moves(store, "production") == []


def test_wheel_deploy_verifies_predictions_and_rolls_back_a_broken_version(
    store: str, pipeline: Path
) -> None:
    from sklearn.datasets import load_iris
    from unstable_model import Unstable

    output = pipeline / "packages" / "embedded"
    good = api.deploy(pipeline, "embedded", version="2", tracking_uri=store)
    assert good.outcome == PROMOTED, good.reason
    checks = {check.name: check for check in good.checks}
    assert list(checks) == ["missing_files", "wheel_import", "differing_predictions"]
    assert checks["differing_predictions"].value == 0
    wheel = next(output.glob("*.whl")).read_bytes()

    frame = load_iris(as_frame=True).frame.drop(columns="target")
    broken = register(store, NAME, Unstable().fit(frame, load_iris().target), frame, alias=None)
    result = api.deploy(pipeline, "embedded", version=broken, tracking_uri=store)
    assert result.outcome == ROLLED_BACK
    assert [check.name for check in result.failed] == ["differing_predictions"]
    assert "differing_predictions" in result.reason
    # The output is untouched, no staging folder is left, the alias did not move.
    assert next(output.glob("*.whl")).read_bytes() == wheel
    assert sorted(p.name for p in output.parent.iterdir()) == ["embedded"]
    aliases = client_for(store).get_registered_model(NAME).aliases
    assert {alias: str(version) for alias, version in aliases.items()} == {"embedded": "2"}
    assert moves(store, "embedded") == [(None, "2", "deploy"), ("2", "2", "rollback")]
    assert package_state(package_target(pipeline, "embedded"), NAME, store)["version"] == "2"
    embedded = {t["name"]: t for t in api.deployments(pipeline, store)["targets"]}["embedded"]
    assert embedded["verification"]["outcome"] == ROLLED_BACK


def test_a_failure_after_the_swap_puts_the_previous_build_back(
    store: str, pipeline: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jupyter_mlops.registry import alias_history as history

    assert api.deploy(pipeline, "cluster", version="1", tracking_uri=store).promoted

    def registry_gone(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the registry went away")

    monkeypatch.setattr(history, "move_alias", registry_gone)  # fault injection
    with pytest.raises(RuntimeError, match="the registry went away"):
        api.deploy(pipeline, "cluster", version="2", tracking_uri=store)
    assert built(pipeline / "build" / "k8s")["version"] == "1"
    assert sorted(p.name for p in (pipeline / "build").iterdir()) == ["k8s"]
    assert moves(store, "production")[-1][2] == "rollback"


def test_the_cli_rolls_a_deploy_target_back(
    store: str, pipeline: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``jupyter mlops rollback PIPELINE --deploy-target NAME`` restores the previous build
    and moves the alias back; without an earlier version it is one line, exit 2."""
    from jupyter_mlops.cli.main import main

    output = pipeline / "build" / "k8s"
    argv = ["rollback", str(pipeline), "--deploy-target", "cluster", "--tracking-uri", store]
    api.deploy(pipeline, "cluster", version="1", tracking_uri=store)
    assert main(argv) == 2
    assert "error:" in capsys.readouterr().err
    api.deploy(pipeline, "cluster", version="2", tracking_uri=store)
    assert main(argv) == 0
    assert capsys.readouterr().out.strip() == "flowers: production 2 → 1 (rollback)"
    assert built(output)["version"] == "1"
