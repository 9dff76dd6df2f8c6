"""Drift: PSI per column and KS for numeric columns against the stored reference statistics;
reported (warn) by default, failing the producing step with ``drift: fail``."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_validation import cli_run, good_frame, make_pipeline, run_bad, statuses

from jupyter_mlops.errors import DriftConfigError
from jupyter_mlops.quality.drift import (
    DriftSettings,
    compute_drift,
    drift_settings,
    population_stability,
    reference_stats,
)
from jupyter_mlops.quality.schemas import categorical_columns


def shifted(frame: pd.DataFrame) -> pd.DataFrame:
    """Same columns and ranges, but x moved to the upper part of its range."""
    out = frame.copy()
    out["x"] = (40.0 + 0.6 * out["x"]).round(3)
    return out


def drift_of(reference: pd.DataFrame, current: pd.DataFrame, **settings: object):  # type: ignore[no-untyped-def]
    stats = json.loads(json.dumps(reference_stats(reference, categorical_columns(reference))))
    return compute_drift(current, stats, "load.df", DriftSettings(**settings))  # type: ignore[arg-type]


# --- settings -------------------------------------------------------------------------------


def test_drift_settings_forms() -> None:
    assert drift_settings(None) == DriftSettings(psi_threshold=0.2, action="warn")
    assert drift_settings("fail").action == "fail"
    assert drift_settings("off").action == "off" and drift_settings(False).action == "off"
    parsed = drift_settings({"psi_threshold": 0.1, "action": "fail", "ks_pvalue": 0.01})
    assert parsed == DriftSettings(psi_threshold=0.1, ks_pvalue=0.01, action="fail")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("sometimes", "field 'drift' must be one of warn, fail, off or a mapping, not 'sometimes'"),
        ({"action": "stop"}, "field 'drift.action' must be one of warn, fail, off, not 'stop'"),
        ({"psi": 0.1}, "field 'drift.psi' is not a drift setting"),
        ({"psi_threshold": -1}, "field 'drift.psi_threshold' must be a number in [0, inf], not -1"),
        ({"ks_pvalue": 2}, "field 'drift.ks_pvalue' must be a number in [0, 1], not 2"),
        ([1], "field 'drift' must be one of warn, fail, off or a mapping"),
    ],
)
def test_bad_drift_settings_name_the_field(raw: object, message: str) -> None:
    with pytest.raises(DriftConfigError) as error:
        drift_settings(raw, "p/pipeline.yaml")
    assert str(error.value) == f"p/pipeline.yaml: {message}"


# --- statistics -----------------------------------------------------------------------------


def test_population_stability_index() -> None:
    assert population_stability([0.5, 0.5], [0.25, 0.75]) == pytest.approx(
        0.25 * math.log(2) - 0.25 * math.log(2 / 3)
    )
    assert population_stability([0.3, 0.7], [0.3, 0.7]) == 0.0
    assert population_stability([0.0, 1.0], [0.0, 1.0]) == 0.0  # empty bins are floored


def test_same_data_shows_no_drift() -> None:
    frame = good_frame()
    report = drift_of(frame, frame)
    assert {c.column for c in report.columns} == {"id", "x", "count", "color", "y"}
    assert all(c.psi == pytest.approx(0.0, abs=1e-12) for c in report.columns)
    assert all(c.ks == pytest.approx(0.0) for c in report.columns if c.kind == "numeric")
    assert report.drifted() == []
    assert report.to_text().startswith("load.df: no drift\n  300 rows; per column:")


def test_shifted_values_drift_above_threshold() -> None:
    frame = good_frame(rows=2000)
    report = drift_of(frame, shifted(frame))
    (x,) = report.drifted()
    assert x.column == "x" and x.kind == "numeric" and x.psi > 1.0
    assert x.ks > 0.3 and x.ks_pvalue < 1e-10
    metrics = report.metrics("df")
    assert metrics["drift.df.x.psi"] == x.psi and metrics["drift.df.x.ks"] == x.ks
    assert metrics["drift.df.psi_max"] == x.psi
    assert "drift.df.color.ks" not in metrics  # KS is for numeric columns only
    assert report.summary().startswith(
        "load.df drifted from its reference (PSI threshold 0.2): column 'x': PSI "
    )


def test_ks_on_the_percentile_grid_matches_scipy() -> None:
    from scipy.stats import ks_2samp

    rng = np.random.default_rng(3)
    reference = pd.DataFrame({"v": rng.normal(size=5000)})
    current = pd.DataFrame({"v": rng.normal(0.15, 1.1, size=4000)})
    (column,) = drift_of(reference, current).columns
    exact = ks_2samp(current["v"], reference["v"], method="asymp")
    assert column.ks <= exact.statistic + 1e-12  # a lower bound …
    assert column.ks == pytest.approx(exact.statistic, abs=0.01)  # … within a percentile
    assert column.ks_pvalue == pytest.approx(exact.pvalue, rel=0.5, abs=1e-6)


def test_category_mix_new_values_and_missing_values_drift() -> None:
    frame = good_frame(rows=1000)
    all_red = frame.assign(color="red")
    assert drift_of(frame, all_red).drifted()[0].column == "color"
    new_value = frame.assign(color=np.where(frame.index % 3 == 0, "purple", frame["color"]))
    assert drift_of(frame, new_value).drifted()[0].column == "color"
    with_nulls = frame.assign(y=frame["y"].where(frame.index % 2 == 0))
    (y,) = drift_of(frame, with_nulls).drifted()
    assert y.column == "y" and y.psi > 0.2  # the missing-value bin moved from 0 to 50%


def test_large_frames_are_measured_on_a_seeded_sample() -> None:
    rng = np.random.default_rng(5)
    reference = pd.DataFrame({"v": rng.normal(size=50_000)})
    current = pd.DataFrame({"v": rng.normal(size=300_000)})
    first = drift_of(reference, current, sample_rows=40_000)
    assert first.rows == 300_000 and first.sampled == 40_000
    assert first.columns == drift_of(reference, current, sample_rows=40_000).columns
    assert first.columns[0].psi < 0.01
    assert "(sample of 40000)" in first.to_text()


def test_ks_pvalue_limit_flags_numeric_columns() -> None:
    frame = good_frame(rows=3000)
    slightly = frame.assign(y=frame["y"] + 0.2)
    assert drift_of(frame, slightly).drifted() == []  # PSI under 0.2
    (y,) = drift_of(frame, slightly, ks_pvalue=0.001).drifted()
    assert y.column == "y"


# --- in a pipeline --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ran_pipeline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = make_pipeline(tmp_path_factory.mktemp("driftpipe"))
    result = cli_run(folder)
    assert result.returncode == 0, result.stderr
    return folder


@pytest.fixture
def pipeline(ran_pipeline: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(ran_pipeline, tmp_path / "flow"))


def test_shifted_values_are_reported_as_drift_and_the_run_goes_on(pipeline: Path) -> None:
    result = run_bad(pipeline, shifted(good_frame()))
    assert result.returncode == 0, result.stderr
    assert statuses(result) == {"load": "ran", "train": "ran"}
    summary = json.loads(result.stdout)
    assert set(summary["metrics"]) == {"mean_x", "rows"}  # drift metrics stay on the step
    drift = summary["drift"]["load.df"]
    assert drift["drifted"] == ["x"] and drift["psi_threshold"] == 0.2
    psi = {c["column"]: c["psi"] for c in drift["columns"]}
    assert psi["x"] > 0.2 and max(v for k, v in psi.items() if k != "x") < 0.01
    assert summary["validation"] == {}
    (warning,) = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert warning.startswith(
        "warning: step 'load': load.df drifted from its reference (PSI threshold 0.2): "
        f"column 'x': PSI {psi['x']:.3f} (KS "
    )


def test_drift_fail_stops_the_pipeline_before_training(pipeline: Path) -> None:
    with (pipeline / "pipeline.yaml").open("a") as file:
        file.write("drift: fail\n")
    result = run_bad(pipeline, shifted(good_frame()))
    assert result.returncode == 1, result.stderr
    assert statuses(result) == {"load": "failed", "train": "not_run"}
    error = json.loads(result.stdout)["error"]
    assert error.startswith(
        "step 'load' (notebook cell 3) failed: load.df drifted from its reference "
        "(PSI threshold 0.2): column 'x': PSI "
    )
    assert error.endswith(" (drift: fail in pipeline.yaml)")
    assert "  - column 'x': PSI " in result.stderr  # the per-column drift report


def test_threshold_from_pipeline_yaml_and_off(pipeline: Path) -> None:
    with (pipeline / "pipeline.yaml").open("a") as file:
        file.write("drift:\n  psi_threshold: 50\n  action: fail\n")
    assert run_bad(pipeline, shifted(good_frame())).returncode == 0
    text = (pipeline / "pipeline.yaml").read_text().replace("psi_threshold: 50", "action: off")
    (pipeline / "pipeline.yaml").write_text(text.replace("  action: fail\n", ""))
    frame = shifted(good_frame())
    frame.loc[0, "y"] = 0.0  # new data, so load runs again
    result = run_bad(pipeline, frame)
    assert result.returncode == 0 and json.loads(result.stdout)["drift"] == {}


def test_bad_drift_setting_is_refused_before_any_step_runs(pipeline: Path) -> None:
    with (pipeline / "pipeline.yaml").open("a") as file:
        file.write("drift: {psi_threshold: high}\n")
    result = run_bad(pipeline, shifted(good_frame()))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"error: {pipeline / 'pipeline.yaml'}: field 'drift.psi_threshold' must be a number "
        "in [0, inf], not 'high'"
    )


def test_drift_metrics_are_logged_on_the_step_run(pipeline: Path, tracking_uri: str) -> None:
    import mlflow

    result = run_bad(pipeline, shifted(good_frame()), "--tracking-uri", tracking_uri, track=True)
    assert result.returncode == 0, result.stderr
    client = mlflow.MlflowClient(tracking_uri=tracking_uri)
    experiment = client.get_experiment_by_name("flow")
    runs = client.search_runs([experiment.experiment_id])
    load = next(r for r in runs if r.data.tags.get("mlops.step") == "load")
    assert load.data.metrics["drift.df.x.psi"] > 0.2
    assert {"drift.df.x.ks", "drift.df.x.ks_pvalue", "drift.df.psi_max"} <= set(load.data.metrics)
    parent = next(r for r in runs if "mlops.step" not in r.data.tags)
    assert not any(k.startswith("drift.") for k in parent.data.metrics)
    names = {a.path for a in client.list_artifacts(load.info.run_id, "validation")}
    assert names == {"validation/load.df.drift.txt"}
