"""Test selection by column kind and reference size, ``monitor:`` overrides, and bad sections."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from jupyter_mlops.errors import MonitorConfigError, MonitorDataError
from jupyter_mlops.monitor.column_drift import column_drift, dataset_drift
from jupyter_mlops.monitor.settings import (
    ColumnSettings,
    MonitorSettings,
    monitor_settings,
    window_seconds,
)

RNG = np.random.default_rng(7)
NUMERIC = RNG.normal(size=3_000)
FIVE_VALUES = RNG.integers(0, 5, size=3_000)
WORDS = RNG.choice(["red", "green", "blue"], size=3_000)
FLAGS = RNG.random(3_000) < 0.4


@pytest.mark.parametrize(
    ("values", "kind", "small_test", "large_test"),
    [
        (NUMERIC, "numeric", "ks", "wasserstein"),
        (FIVE_VALUES, "categorical", "chi2", "jensenshannon"),  # numeric with <= 5 values
        (WORDS, "categorical", "chi2", "jensenshannon"),
        (FLAGS, "binary", "z", "jensenshannon"),
        (RNG.choice([0, 1], size=3_000), "binary", "z", "jensenshannon"),
    ],
)
def test_test_follows_kind_and_reference_size(
    values: np.ndarray, kind: str, small_test: str, large_test: str
) -> None:
    small = column_drift("c", values[:1_000], values[1_000:], MonitorSettings())
    large = column_drift("c", values[:1_001], values[1_000:], MonitorSettings())
    assert (small.kind, small.test, large.kind, large.test) == (kind, small_test, kind, large_test)
    assert small.threshold == 0.05 and large.threshold == 0.1


def test_reference_rows_decides_for_a_sampled_reference() -> None:
    column = column_drift(
        "c", NUMERIC[:500], NUMERIC[500:], MonitorSettings(), reference_rows=50_000
    )
    assert column.test == "wasserstein"


def test_global_and_column_overrides() -> None:
    settings = monitor_settings(
        {
            "stattest": "psi",
            "stattest_threshold": 0.3,
            "small_reference_rows": 10,
            "columns": {"w": {"stattest": "chi2", "threshold": 0.01}, "n": {"kind": "categorical"}},
        }
    )
    psi = column_drift("x", NUMERIC[:500], NUMERIC[500:], settings)
    assert (psi.test, psi.threshold, psi.statistic) == ("psi", 0.3, psi.psi)
    chi2 = column_drift("w", WORDS[:500], WORDS[500:], settings)
    assert (chi2.test, chi2.threshold) == ("chi2", 0.01)
    as_categories = column_drift("n", FIVE_VALUES[:500] * 1.5, FIVE_VALUES[500:] * 1.5, settings)
    assert as_categories.kind == "categorical"


def test_a_forced_numeric_test_skips_categorical_columns() -> None:
    settings = MonitorSettings(stattest="ks")
    assert column_drift("w", WORDS[:500], WORDS[500:], settings).test == "chi2"
    assert column_drift("x", NUMERIC[:2_000], NUMERIC[2_000:], settings).test == "ks"


def test_a_numeric_test_on_one_categorical_column_names_the_field() -> None:
    settings = MonitorSettings(columns={"w": ColumnSettings(stattest="wasserstein")})
    with pytest.raises(MonitorDataError) as raised:
        column_drift("w", WORDS[:500], WORDS[500:], settings)
    assert raised.value.name == "monitor.columns.w.stattest" and raised.value.exit_code == 2


def test_missing_column_and_empty_column_are_named() -> None:
    reference = pd.DataFrame({"a": NUMERIC[:100], "b": NUMERIC[:100]})
    with pytest.raises(MonitorDataError, match="column 'b' is not in the current data"):
        dataset_drift(reference, reference[["a"]], MonitorSettings())
    with pytest.raises(MonitorDataError, match="column 'a' has no values in the current data"):
        column_drift("a", NUMERIC[:100], np.full(10, np.nan), MonitorSettings())


def test_defaults_and_parsed_fields() -> None:
    assert monitor_settings(None) == MonitorSettings()
    settings = monitor_settings(
        {"drift_share": 0.3, "window": "30m", "psi_bins": 20, "decay": {"accuracy": 0.9}}
    )
    assert (settings.drift_share, settings.window_seconds, settings.psi_bins) == (0.3, 1800, 20)
    assert dict(settings.decay) == {"accuracy": 0.9}
    assert window_seconds("1d") == 86_400


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"stattest": "ks", "treshold": 0.1}, "monitor.treshold"),
        ({"stattest": "anderson"}, "monitor.stattest"),
        ({"stattest": "ks", "stattest_threshold": 1.5}, "monitor.stattest_threshold"),
        ({"drift_share": -0.1}, "monitor.drift_share"),
        ({"window": "an hour"}, "monitor.window"),
        ({"psi_bins": 1}, "monitor.psi_bins"),
        ({"columns": {"age": {"stattest": "t-test"}}}, "monitor.columns.age.stattest"),
        ({"columns": {"age": {"test": "ks"}}}, "monitor.columns.age.test"),
        ({"columns": {"age": {"stattest": "z", "threshold": 2}}}, "monitor.columns.age.threshold"),
        ({"columns": {"age": {"kind": "text"}}}, "monitor.columns.age.kind"),
        ({"decay": {"accuracy": "high"}}, "monitor.decay.accuracy"),
        (["ks"], "monitor"),
    ],
)
def test_bad_monitor_section_names_the_field(raw: object, field: str) -> None:
    with pytest.raises(MonitorConfigError) as raised:
        monitor_settings(raw, path="/p/pipeline.yaml")
    error = raised.value
    assert error.name == field and error.exit_code == 2
    assert str(error).startswith(f"/p/pipeline.yaml: field '{field}'")
