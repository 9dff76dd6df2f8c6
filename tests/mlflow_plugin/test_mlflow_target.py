"""The ``mlflow`` deploy target driving an installed MLflow deployment plugin (a small fake
one, found through its entry point like any plugin): a good deploy promotes, a deployment
answering wrong predictions is rolled back, plugin failures name the target and operation."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mlflow_fixtures import client_for
from plugin_helpers import NAME, install_fake_plugin

from jupyter_mlops.deploy.kinds import deploy_to, kind_actions
from jupyter_mlops.deploy.mlflow_target.target import MlflowTarget
from jupyter_mlops.deploy.targets import parse_target
from jupyter_mlops.errors import DeployError
from jupyter_mlops.registry.alias_history import alias_history

pytest_plugins = ("mlflow_fixtures", "plugin_fixtures")


@pytest.fixture
def fake_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Install the fake plugin (module + dist-info with its entry point) on sys.path; the
    state file of its deployments."""
    from mlflow.deployments.interface import plugin_store

    site = install_fake_plugin(tmp_path / "site")
    monkeypatch.syspath_prepend(str(site))
    plugin_store.register_entrypoints()  # mlflow read the entry points when it was imported
    state = tmp_path / "fake-deployments.json"
    monkeypatch.setenv("FAKE_DEPLOY_STATE", str(state))
    yield state
    plugin_store.registry.pop("fake", None)


def target(**settings: Any) -> MlflowTarget:
    parsed = parse_target("prod", {"kind": "mlflow", "target_uri": "fake", **settings})
    assert isinstance(parsed, MlflowTarget)
    return parsed


def deployments(state: Path) -> dict[str, Any]:
    return json.loads(state.read_text()) if state.exists() else {}


def production(store: str) -> str | None:
    version = client_for(store).get_registered_model(NAME).aliases.get("production")
    return None if version is None else str(version)


def test_good_deploys_create_then_update_the_deployment_and_promote(
    store: str, fake_plugin: Path
) -> None:
    first = deploy_to(store, NAME, target(deployment="iris-prod"), "1")
    assert first.promoted, first.reason
    assert [(c.name, c.passed) for c in first.checks] == [
        ("predictions", True),
        ("reports_candidate", True),
    ]
    assert deployments(fake_plugin)["iris-prod"]["model_uri"] == "models:/iris/1"
    second = deploy_to(store, NAME, target(deployment="iris-prod"), "2")
    assert second.promoted, second.reason
    assert (second.stable, second.strategy) == ("1", "replace")
    deployed = deployments(fake_plugin)["iris-prod"]
    assert (deployed["model_uri"], deployed["calls"]) == ("models:/iris/2", ["create", "update"])
    assert production(store) == "2"
    moves = alias_history(client_for(store), NAME, "production")
    assert [(m.to_version, m.reason, m.rollout) for m in moves] == [
        ("1", "deploy", first.rollout),
        ("2", "deploy", second.rollout),
    ]


def test_wrong_predictions_roll_the_deployment_back_to_the_stable_version(
    store: str, fake_plugin: Path
) -> None:
    misbehaving = target(config={"wrong_versions": 2})
    assert deploy_to(store, NAME, misbehaving, "1").promoted
    result = deploy_to(store, NAME, misbehaving, "2")
    assert not result.promoted
    assert [check.name for check in result.failed] == ["predictions"]
    assert "the deployment answered" in result.reason
    deployed = deployments(fake_plugin)["prod"]
    assert (deployed["model_uri"], deployed["calls"]) == (
        "models:/iris/1",
        ["create", "update", "update"],
    )
    assert production(store) == "1"
    last = alias_history(client_for(store), NAME, "production")[-1]
    assert (last.reason, last.from_version, last.to_version, last.rollout) == (
        "rollback",
        "1",
        "1",
        result.rollout,
    )


def test_a_failed_first_deploy_deletes_the_deployment_it_created(
    store: str, fake_plugin: Path
) -> None:
    result = deploy_to(store, NAME, target(config={"wrong_versions": "1"}), "1")
    assert not result.promoted
    assert deployments(fake_plugin) == {}
    assert production(store) is None


def test_a_plugin_refusing_is_a_rollback_naming_the_target_and_operation(
    store: str, fake_plugin: Path
) -> None:
    result = deploy_to(store, NAME, target(config={"refuse": "create"}), "1")
    assert not result.promoted
    assert "fake: cannot create deployment 'prod' of models:/iris/1: fake plugin refuses" in (
        result.reason
    )
    with pytest.raises(DeployError, match="nosuch: cannot load the MLflow deployment plugin"):
        deploy_to(store, NAME, target(target_uri="nosuch"), "1")


def test_rollback_and_state_follow_the_alias(store: str, fake_plugin: Path) -> None:
    settings = target()
    actions = kind_actions("mlflow")
    assert deploy_to(store, NAME, settings, "1").promoted
    assert deploy_to(store, NAME, settings, "2").promoted
    move = actions.rollback(store, NAME, settings)
    assert (move.from_version, move.to_version) == ("2", "1")
    assert deployments(fake_plugin)["prod"]["model_uri"] == "models:/iris/1"
    state = actions.state(settings, NAME, store)
    assert state["reachable"] and state["description"]["model_uri"] == "models:/iris/1"
    missing = actions.state(target(deployment="other"), NAME, store)
    assert not missing["reachable"] and "get deployment 'other'" in missing["problem"]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({}, "deploy.prod.target_uri must be an MLflow deployment target URI"),
        ({"target_uri": "a b"}, "deploy.prod.target_uri must be an MLflow deployment"),
        ({"target_uri": "fake", "config": [1]}, "deploy.prod.config must be a mapping"),
        ({"target_uri": "fake", "config": {"k": [1]}}, "deploy.prod.config.k must be a string"),
        ({"target_uri": "fake", "deployment": "a b"}, "deploy.prod.deployment must be a"),
        ({"target_uri": "fake", "colour": 1}, "deploy.prod.colour is unknown"),
    ],
)
def test_bad_settings_are_refused_naming_the_key(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(DeployError, match=message):
        parse_target("prod", {"kind": "mlflow", **settings})


def test_our_own_plugin_as_an_mlflow_target(
    store: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from jupyter_mlops import api

    monkeypatch.chdir(tmp_path)
    settings = target(target_uri="jupyter-mlops", deployment="svc")
    try:
        first = deploy_to(store, NAME, settings, "1")
        assert first.promoted, first.reason
        second = deploy_to(store, NAME, settings, "2")
        assert second.promoted, second.reason
        assert [(c.name, c.passed) for c in second.checks] == [
            ("predictions", True),
            ("reports_candidate", True),
        ]
        monkeypatch.setenv("MLFLOW_TRACKING_URI", store)
        served = api.get_local_deployment("rest", "svc")
        assert (served["version"], served["served_version"]) == ("2", "2")
        assert production(store) == "2"
    finally:
        monkeypatch.setenv("MLFLOW_TRACKING_URI", store)
        for left in api.list_local_deployments("rest"):
            api.delete_local_deployment("rest", left["name"])
