"""Traffic splits of a served alias, stored in the registry (real MLflow SQLite store)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from mlflow_fixtures import client_for

from jupyter_mlops.errors import DeployError
from jupyter_mlops.registry.traffic import (
    TrafficSplit,
    clear_traffic,
    read_served,
    traffic_key,
    write_traffic,
)

NAME = "churn"


@pytest.fixture
def client(tracking_uri: str, tmp_path: Path) -> Any:
    """A client on a store where model ``churn`` has versions 1..5, ``production`` → 3."""
    client = client_for(tracking_uri)
    client.create_registered_model(NAME)
    for number in range(1, 6):
        client.create_model_version(NAME, (tmp_path / f"model-{number}").as_uri())
    client.set_registered_model_alias(NAME, "production", "3")
    return client


def test_a_split_round_trips_through_the_registry(client: Any) -> None:
    split = TrafficSplit(
        {"3": 90, "4": 10},
        shadow=("5",),
        standby=["2"],  # type: ignore[arg-type]  # lists from JSON are accepted
        sticky="x-client-id",
        rollout="r-1",
    )
    assert split.standby == ("2",)  # lists become tuples
    assert split.versions() == {"2", "3", "4", "5"}
    write_traffic(client, NAME, "production", split)
    assert read_served(client, NAME, "production") == ("3", split)
    stored = json.loads(client.get_registered_model(NAME).tags["mlops.traffic.production"])
    assert stored.pop("updated").endswith("Z")
    assert stored == {
        "weights": {"3": 90, "4": 10},
        "shadow": ["5"],
        "standby": ["2"],
        "sticky": "x-client-id",
        "rollout": "r-1",
    }
    assert TrafficSplit.from_json(stored) == split
    clear_traffic(client, NAME, "production")
    clear_traffic(client, NAME, "production")  # already cleared: nothing to do
    assert read_served(client, NAME, "production") == ("3", TrafficSplit({"3": 100}))


def test_without_a_split_the_alias_version_gets_all_traffic(client: Any) -> None:
    version, split = read_served(client, NAME, "production")
    assert (version, split.weights, split.shadow, split.standby) == ("3", {"3": 100}, (), ())
    assert split.sticky is None and split.rollout is None


def test_a_split_is_served_even_when_its_alias_is_unset(client: Any) -> None:
    write_traffic(client, NAME, "staging", TrafficSplit({"1": 50, "2": 50}))
    assert read_served(client, NAME, "staging") == (None, TrafficSplit({"1": 50, "2": 50}))
    with pytest.raises(DeployError) as nothing:
        read_served(client, NAME, "canary")
    assert str(nothing.value) == (
        "model 'churn' has no alias 'canary' and no traffic split: nothing to serve"
    )


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"weights": {"3": 90}}, "traffic weights must sum to 100, not 90"),
        ({"weights": {"3": 110, "4": -10}}, "weight of version 3 must be an integer 0..100"),
        ({"weights": {"3": 50.0, "4": 50}}, "weight of version 3 must be an integer 0..100"),
        ({"weights": {"3": True, "4": 99}}, "weight of version 3 must be an integer 0..100"),
        ({"weights": {"v3": 100}}, "a version must be a string of digits, not 'v3'"),
        ({"weights": {3: 100}}, "a version must be a string of digits, not 3"),
        ({"weights": {}}, "traffic weights must be a non-empty mapping"),
        ({"weights": {"3": 100}, "shadow": "5"}, "'shadow' must be a list of versions, not '5'"),
        ({"weights": {"3": 100}, "standby": ["x"]}, "traffic standby: a version must be"),
        ({"weights": {"3": 100}, "sticky": ""}, "traffic 'sticky' must be a non-empty string"),
        ({"weights": {"3": 100}, "rollout": 7}, "traffic 'rollout' must be a non-empty string"),
    ],
)
def test_a_bad_split_is_refused_naming_the_field(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(DeployError, match=re.escape(message)):
        TrafficSplit(**fields)


@pytest.mark.parametrize(
    "value, message",
    [
        ("not json", "Expecting value"),
        ('{"weights": {"3": 60}}', "traffic weights must sum to 100, not 60"),
        ('{"weights": {"3": 100}, "color": "red"}', "unknown traffic split field(s): color"),
        ('["3"]', "a traffic split must be a JSON object"),
    ],
)
def test_a_bad_stored_split_names_the_model_and_alias(
    client: Any, value: str, message: str
) -> None:
    client.set_registered_model_tag(NAME, traffic_key("production"), value)
    with pytest.raises(DeployError) as bad:
        read_served(client, NAME, "production")
    prefix = (
        "model 'churn', alias 'production': bad traffic split in tag mlops.traffic.production: "
    )
    assert str(bad.value).startswith(prefix) and message in str(bad.value)


def test_writing_a_split_checks_the_model_and_its_versions(client: Any) -> None:
    with pytest.raises(DeployError, match="model 'churn' has no version 9"):
        write_traffic(client, NAME, "production", TrafficSplit({"3": 100}, shadow=("9",)))
    with pytest.raises(DeployError, match="no registered model 'other' in sqlite:///"):
        write_traffic(client, "other", "production", TrafficSplit({"3": 100}))
    with pytest.raises(DeployError, match="no registered model 'other'"):
        read_served(client, "other", "production")
    assert traffic_key("production") not in client.get_registered_model(NAME).tags
