"""The triggers: section: defaults, and every malformed field named by trigger and field."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from helpers import pipeline_file, trigger

from jupyter_mlops.errors import TriggerConfigError
from jupyter_mlops.triggers.config import read_triggers


def test_defaults_and_relative_paths(tmp_path: Path) -> None:
    watch = trigger(tmp_path, kind="new_data", path="data/in.csv")
    assert watch.cooldown == 3600 and watch.params == {} and watch.deploy is None
    assert watch.path == tmp_path.resolve() / "data" / "in.csv"
    assert trigger(tmp_path, kind="drift").windows == 1
    assert trigger(tmp_path, kind="schedule", cron="0 * * * *", cooldown="1d").cooldown == 86400
    assert read_triggers(pipeline_file(tmp_path, None)) == {}


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"kind": "sometimes"}, "triggers.t.kind must be one of schedule, new_data, drift, decay"),
        ({"kind": "schedule"}, "triggers.t.cron is missing"),
        ({"kind": "schedule", "cron": "* * *"}, "triggers.t.cron: '* * *' must have 5 fields"),
        (
            {"kind": "schedule", "cron": "* * * * *", "path": "x"},
            "triggers.t.path is not a setting of a schedule trigger",
        ),
        ({"kind": "drift", "windows": 0}, "triggers.t.windows must be a whole number of 1 or more"),
        ({"kind": "drift", "cooldown": "soon"}, "triggers.t.cooldown must be a duration"),
        ({"kind": "drift", "cooldown": -5}, "triggers.t.cooldown must not be negative"),
        ({"kind": "decay", "below": 0.8}, "triggers.t.metric is missing"),
        (
            {"kind": "decay", "metric": "accuracy", "below": "high"},
            "triggers.t.below must be a number",
        ),
        ({"kind": "new_data"}, "triggers.t needs either path"),
        ({"kind": "new_data", "path": "a", "url": "sqlite://"}, "triggers.t needs either path"),
        ({"kind": "new_data", "url": "sqlite://"}, "triggers.t.query is missing"),
        ({"kind": "new_data", "path": "a", "query": "SELECT 1"}, "triggers.t.query goes with url"),
        ({"kind": "drift", "params": [1]}, "triggers.t.params must be a mapping"),
        (
            {"kind": "drift", "params": {"alpha": 1}},
            "triggers.t.params.alpha is not a parameter of the pipeline (parameters: C, data_path)",
        ),
        (
            {"kind": "drift", "params": {"data_path": "{where}"}},
            "triggers.t.params.data_path has placeholder {where}",
        ),
        ({"kind": "drift", "deploy": 3}, "triggers.t.deploy must be a non-empty string"),
    ],
)
def test_a_malformed_trigger_names_the_trigger_and_field(
    tmp_path: Path, settings: dict[str, Any], message: str
) -> None:
    with pytest.raises(TriggerConfigError, match=re.escape(message)) as raised:
        trigger(tmp_path, **settings)
    assert raised.value.exit_code == 2
    assert raised.value.path == str(tmp_path / "pipeline.yaml")


def test_a_section_that_is_no_mapping(tmp_path: Path) -> None:
    with pytest.raises(TriggerConfigError, match="triggers must be a mapping"):
        read_triggers(pipeline_file(tmp_path, ["nightly"]))
    with pytest.raises(TriggerConfigError, match="triggers.nightly must be a mapping with a kind"):
        read_triggers(pipeline_file(tmp_path, {"nightly": "0 3 * * *"}))
