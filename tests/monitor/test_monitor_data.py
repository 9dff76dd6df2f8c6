"""``api.monitor`` on files: undrifted and drifted Parquet/CSV data against the reference
captured at registration, performance on a label column, CBPE without labels, windows from
a time column, ``decay`` thresholds of a pipeline's ``monitor:`` section, the MLflow window
runs (one per window, updated when monitored again) and the HTML report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mlflow_fixtures import client_for, pipeline_file
from monitor_models import FEATURES, NAME, build_store, labels_of, register, rows

from jupyter_mlops import api
from jupyter_mlops.monitor.window_runs import SOURCE_TAG, WINDOW_START_TAG, window_runs
from jupyter_mlops.pipeline.pipeline_file import pipeline_yaml

CURRENT_ROWS = 2000


@pytest.fixture(scope="module")
def store(mlflow_db_template: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    return build_store(mlflow_db_template, tmp_path_factory.mktemp("monitor-data"))


def timed(frame: Any, start: str, hours: int) -> Any:
    """``frame`` with a ``time`` column spreading its rows evenly over ``hours`` hours."""
    import pandas

    step = pandas.Timedelta(hours=hours) / len(frame)
    times = pandas.Timestamp(start, tz="UTC") + step * pandas.RangeIndex(len(frame))
    return frame.assign(time=times)


def window_run_count(uri: str, source: str) -> int:
    client = client_for(uri)
    experiment = client.get_experiment_by_name(f"{NAME}-monitoring")
    runs = client.search_runs(
        [experiment.experiment_id], filter_string=f"tags.`{SOURCE_TAG}` = '{source}'"
    )
    return len(runs)


def test_undrifted_data_with_labels_fires_nothing(store: str, tmp_path: Path) -> None:
    current = rows(CURRENT_ROWS, seed=1)
    current["y"] = labels_of(current)
    current.to_parquet(tmp_path / "current.parquet")
    result = api.monitor(
        f"{NAME}@champion", data=str(tmp_path / "current.parquet"), labels="y", tracking_uri=store
    )
    document = result.to_json()
    assert document["fired"] == [] and not result.failed
    assert document["reference"] == {"version": "1", "rows": 2000, "columns": FEATURES}
    (window,) = document["windows"]
    assert window["rows"] == CURRENT_ROWS and window["versions"] == {"1": CURRENT_ROWS}
    assert window["drift"]["drifted"] is False and window["drift"]["share"] == 0.0
    assert window["prediction_drift"]["reference"]["drifted"] is False
    assert window["prediction_drift"]["between_versions"] is None
    performance = window["performance"]
    assert performance["source"] == "labels" and performance["rows"] == CURRENT_ROWS
    assert performance["metrics"]["accuracy"] > 0.95
    assert set(document["histograms"]) == {*FEATURES, "prediction"}
    assert document["source"]["kind"] == "data"
    assert document["source"]["location"] == str(tmp_path / "current.parquet")


def test_drifted_csv_fires_drift_and_cbpe_estimates_without_labels(
    store: str, tmp_path: Path
) -> None:
    rows(CURRENT_ROWS, seed=2, shift=1.5).to_csv(tmp_path / "current.csv", index=False)
    result = api.monitor(
        f"{NAME}@champion",
        data=str(tmp_path / "current.csv"),
        fail_on=["drift"],
        tracking_uri=store,
    )
    document = result.to_json()
    assert document["fired"] == ["drift"] and result.failed
    (window,) = document["windows"]
    drifted = {c["column"] for c in window["drift"]["columns"] if c["drifted"]}
    assert {"x1", "x2"} <= drifted
    assert window["prediction_drift"]["reference"]["drifted"] is True
    performance = window["performance"]
    assert performance["source"] == "cbpe" and set(performance["metrics"]) >= {"accuracy"}
    assert 0.0 <= performance["metrics"]["accuracy"] <= 1.0
    run = client_for(store).get_run(window["mlflow_run_id"])
    assert run.data.metrics["perf.estimated"] == 1.0
    assert run.data.metrics["drift.dataset"] == 1.0


def test_windows_from_a_time_column_are_recorded_once(store: str, tmp_path: Path) -> None:
    current = timed(rows(900, seed=4), "2026-12-01T10:00:00", hours=3)
    current["y"] = labels_of(current)
    current.to_parquet(tmp_path / "timed.parquet")

    def monitor() -> Any:
        return api.monitor(
            f"{NAME}/1",
            data=str(tmp_path / "timed.parquet"),
            labels="y",
            window="1h",
            tracking_uri=store,
        )

    first = monitor().to_json()
    assert [w["start"] for w in first["windows"]] == [
        "2026-12-01T10:00:00+00:00",
        "2026-12-01T11:00:00+00:00",
        "2026-12-01T12:00:00+00:00",
    ]
    assert [w["rows"] for w in first["windows"]] == [300, 300, 300]
    second = monitor().to_json()
    assert [w["mlflow_run_id"] for w in second["windows"]] == [
        w["mlflow_run_id"] for w in first["windows"]
    ]
    source = first["source"]["id"]
    assert window_run_count(store, source) == 3
    run = client_for(store).get_run(first["windows"][0]["mlflow_run_id"])
    assert run.info.run_name == "window 2026-12-01T10:00:00+00:00"
    assert run.data.tags[WINDOW_START_TAG] == "2026-12-01T10:00:00+00:00"
    assert run.data.tags["mlops.monitor.window_end"] == "2026-12-01T11:00:00+00:00"
    assert run.data.tags["mlops.monitor.model"] == NAME
    assert run.data.metrics["rows"] == 300.0
    assert {
        "drift.share",
        "drift.x1",
        "drift.x1.drifted",
        "prediction_drift",
        "perf.accuracy",
    } <= set(run.data.metrics)
    since = api.monitor(
        f"{NAME}/1",
        data=str(tmp_path / "timed.parquet"),
        since="2026-12-01T11:30:00",
        window="1h",
        tracking_uri=store,
    ).to_json()
    assert [w["rows"] for w in since["windows"]] == [150, 300]
    listed = window_runs(store, NAME, 50)
    assert listed is not None and any(w.run_id == run.info.run_id for w in listed)


def test_decay_threshold_of_the_pipeline_fires(store: str, tmp_path: Path) -> None:
    folder = write_pipeline(tmp_path / "pipeline", {"decay": {"accuracy": 0.999}, "window": "2h"})
    current = rows(CURRENT_ROWS, seed=5)
    current["y"] = labels_of(current)
    current.loc[:99, "y"] = 1 - current.loc[:99, "y"]  # 100 wrong labels: accuracy < 0.96
    current.to_parquet(tmp_path / "current.parquet")
    result = api.monitor(
        f"{NAME}@champion",
        data=str(tmp_path / "current.parquet"),
        labels="y",
        fail_on=["decay"],
        pipeline=str(folder),
        tracking_uri=store,
    )
    document = result.to_json()
    assert document["fired"] == ["decay"] and result.failed
    assert document["windows"][0]["decayed"] == ["accuracy"]
    assert document["source"]["window"] == "2h"


def test_report_is_written_and_attached_to_the_latest_window(store: str, tmp_path: Path) -> None:
    rows(500, seed=6, shift=1.0).to_parquet(tmp_path / "current.parquet")
    report = tmp_path / "report.html"
    result = api.monitor(
        f"{NAME}@champion",
        data=str(tmp_path / "current.parquet"),
        report=str(report),
        tracking_uri=store,
    )
    assert result.report == str(report)
    text = report.read_text()
    assert text.startswith("<!DOCTYPE html>") and "x1" in text
    run = client_for(store).get_run(result.windows[-1].mlflow_run_id)
    assert run.data.tags["mlops.monitor.report"] == "report/report.html"


def write_pipeline(folder: Path, monitor: dict[str, Any]) -> Path:
    """A pipeline folder whose pipeline.yaml has ``monitor`` as its ``monitor:`` section."""
    folder.mkdir()
    pipeline = pipeline_file(folder).pipeline
    text = pipeline_yaml(pipeline, "demo.ipynb", {"monitor": monitor})
    (folder / "pipeline.yaml").write_text(text)
    return folder


def test_regressor_performance_and_error_metric_decay(store: str, tmp_path: Path) -> None:
    from sklearn.linear_model import LinearRegression

    train = rows(1500, seed=11)
    target = (train["x1"] * 3.0 + train["x3"]).rename("price")
    model = LinearRegression().fit(train, target)
    register(store, model, {"X_train": train, "price": target}, "production", name="price")
    current = rows(1000, seed=12)
    current["price"] = current["x1"] * 3.0 + current["x3"] + 0.5  # off by 0.5
    current.to_parquet(tmp_path / "prices.parquet")
    folder = write_pipeline(tmp_path / "pipeline", {"decay": {"rmse": 0.1, "r2": 0.5}})
    result = api.monitor(
        "price",
        data=str(tmp_path / "prices.parquet"),
        labels="price",
        pipeline=str(folder),
        tracking_uri=store,
    )
    (window,) = result.to_json()["windows"]
    metrics = window["performance"]["metrics"]
    assert window["performance"]["source"] == "labels"
    assert abs(metrics["rmse"] - 0.5) < 1e-6 and abs(metrics["mae"] - 0.5) < 1e-6
    assert window["decayed"] == ["rmse"]  # rmse above its threshold; r2 is above its floor
    assert result.fired == ["decay"] and not result.failed  # --fail-on not given
    assert window["prediction_drift"]["reference"]["kind"] == "numeric"


def test_sql_query_source_with_a_masked_url(store: str, tmp_path: Path) -> None:
    from sqlalchemy import create_engine

    url = f"sqlite:///{tmp_path / 'current.db'}"
    engine = create_engine(url)
    current = rows(CURRENT_ROWS, seed=13)
    current["y"] = labels_of(current)
    current.to_sql("requests", engine, index=False)
    engine.dispose()
    result = api.monitor(
        f"{NAME}@champion",
        data=url,
        query="select x1, x2, x3, y from requests",
        labels="y",
        tracking_uri=store,
    )
    document = result.to_json()
    assert document["source"]["location"] == url
    assert document["windows"][0]["rows"] == CURRENT_ROWS
    assert document["windows"][0]["performance"]["source"] == "labels"
