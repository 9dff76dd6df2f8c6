"""Every bad input of ``api.monitor`` is refused with a message naming it: the source
options, a missing feature or label column, an unknown model, alias or version, no rows in
the range asked, ``--since``/``--window`` that do not parse, a service log folder without
the model's log, a window where a column has no values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from monitor_models import NAME, build_store, rows

from jupyter_mlops import api
from jupyter_mlops.errors import MlopsError, MonitorDataError, MonitorError, PromotionError
from jupyter_mlops.monitor.windows import parse_duration, parse_since


@pytest.fixture(scope="module")
def store(mlflow_db_template: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    return build_store(mlflow_db_template, tmp_path_factory.mktemp("monitor-errors"))


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("monitor-errors-data") / "current.parquet"
    rows(300, seed=9).to_parquet(path)
    return path


def monitor(store: str, model: str = f"{NAME}@champion", **options: Any) -> object:
    return api.monitor(model, tracking_uri=store, **options)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "give exactly one of --data SOURCE and --service-log DIR"),
        ({"data": "a.parquet", "service_log": "logs"}, "give exactly one of"),
        ({"service_log": "logs", "query": "select 1"}, "--query needs --data"),
        ({"service_log": "logs", "labels": "y"}, "--labels names a column of --data"),
        ({"data": "a.parquet", "fail_on": ["drift", "noise"]}, "--fail-on 'noise' is not one"),
        ({"data": "a.parquet", "window": "0h"}, "--window '0h' is not a duration"),
        ({"data": "a.parquet", "since": "last week"}, "--since 'last week' is neither"),
    ],
)
def test_bad_options_are_named(store: str, options: dict[str, Any], message: str) -> None:
    with pytest.raises(MonitorError, match=message) as caught:
        monitor(store, **options)
    assert caught.value.exit_code == 2


def test_unknown_model_alias_and_version_are_named(store: str, data: Path) -> None:
    with pytest.raises(PromotionError, match="no registered model 'nosuch'"):
        monitor(store, "nosuch@champion", data=str(data))
    with pytest.raises(PromotionError, match=f"model '{NAME}' has no alias 'prod'"):
        monitor(store, f"{NAME}@prod", data=str(data))
    with pytest.raises(PromotionError, match=f"model '{NAME}' has no version 9"):
        monitor(store, f"{NAME}/9", data=str(data))


def test_missing_files_and_columns_are_named(store: str, data: Path, tmp_path: Path) -> None:
    with pytest.raises(MonitorError, match=r"--data .*missing\.parquet: no such file"):
        monitor(store, data=str(tmp_path / "missing.parquet"))
    (tmp_path / "rows.json").write_text("[]")
    with pytest.raises(MonitorError, match="expected a .parquet or .csv file"):
        monitor(store, data=str(tmp_path / "rows.json"))
    rows(100, seed=1).drop(columns="x2").to_csv(tmp_path / "short.csv", index=False)
    with pytest.raises(
        MonitorError, match=r"short\.csv lacks the model's feature column\(s\) x2"
    ) as caught:
        monitor(store, data=str(tmp_path / "short.csv"))
    assert caught.value.name == "x2"
    with pytest.raises(MonitorError, match="--labels column 'label' is not in --data"):
        monitor(store, data=str(data), labels="label")


def test_empty_ranges_are_named(store: str, data: Path, tmp_path: Path) -> None:
    with pytest.raises(MonitorError, match="--since needs a 'time' column"):
        monitor(store, data=str(data), since="24h")
    timed = rows(10, seed=1).assign(time=datetime(2026, 1, 1, tzinfo=UTC))
    timed.to_parquet(tmp_path / "timed.parquet")
    with pytest.raises(
        MonitorError, match=r"no rows to monitor in .*timed\.parquet since 2026-06-01"
    ):
        monitor(store, data=str(tmp_path / "timed.parquet"), since="2026-06-01")


def test_a_column_without_values_names_the_window(store: str, tmp_path: Path) -> None:
    frame = rows(20, seed=1).assign(time=datetime(2026, 1, 1, 10, 5, tzinfo=UTC))
    frame["x1"] = float("nan")
    frame.to_parquet(tmp_path / "unscored.parquet")
    with pytest.raises(
        MonitorError,
        match=r"version 1 of model 'churn' failed on a chunk of .*unscored\.parquet: ValueError: Input X contains NaN\.$",
    ):
        monitor(store, data=str(tmp_path / "unscored.parquet"))
    frame.assign(prediction=1, y=1).to_parquet(tmp_path / "empty-x1.parquet")
    window = r"window 2026-01-01T10:00:00\+00:00 of .*empty-x1\.parquet"
    with pytest.raises(
        MonitorDataError, match=f"{window}: column 'x1' has no values in the current data"
    ):
        monitor(store, data=str(tmp_path / "empty-x1.parquet"), labels="y")


def test_service_log_without_the_model_is_named(store: str, tmp_path: Path) -> None:
    with pytest.raises(MonitorError, match=f"has no request log of model '{NAME}'"):
        monitor(store, service_log=str(tmp_path))


def test_durations_and_since() -> None:
    assert parse_duration("30m") == timedelta(minutes=30)
    assert parse_duration("24h") == timedelta(hours=24)
    assert parse_duration("7d") == timedelta(days=7)
    now = datetime(2026, 12, 2, 12, tzinfo=UTC)
    assert parse_since("2h", now) == datetime(2026, 12, 2, 10, tzinfo=UTC)
    assert parse_since("2026-12-01T08:00") == datetime(2026, 12, 1, 8, tzinfo=UTC)
    assert parse_since(None) is None
    with pytest.raises(MlopsError, match="--since '5 minutes'"):
        parse_since("5 minutes")
