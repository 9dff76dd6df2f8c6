"""``api.monitor`` on the prediction service's request log, written by the real
``RequestLog`` with labels sent as feedback (``FeedbackStore``): windows by the log's
``time``, two versions served side by side (rows per version, prediction drift between
them), performance per window on the feedback labels, shadow rows kept out of the drift."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from monitor_models import FEATURES, NAME, build_store, labels_of, rows

from jupyter_mlops import api
from jupyter_mlops.deploy.serving.feedback import FeedbackStore
from jupyter_mlops.deploy.serving.request_log import RequestLog
from jupyter_mlops.registry.sealed_model import load_model_object

START = 1_796_205_600.0  # 2026-12-02T10:00:00Z
HOURS = 3
REQUESTS_PER_HOUR = 1000


@pytest.fixture(scope="module")
def store(mlflow_db_template: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    return build_store(mlflow_db_template, tmp_path_factory.mktemp("monitor-log"))


def load_version(uri: str, version: str, folder: Path) -> Any:
    from jupyter_mlops.registry.model_ref import download_version

    return load_model_object(download_version(uri, NAME, version, folder / version))


@pytest.fixture(scope="module")
def service_log(store: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three hours of requests: one in five answered by version 2 (a canary), every tenth
    request also answered by version 2 in shadow; labels for every other request."""
    folder = tmp_path_factory.mktemp("service-log")
    models = {v: load_version(store, v, folder) for v in ("1", "2")}
    frame = rows(HOURS * REQUESTS_PER_HOUR, seed=7)
    truth = labels_of(frame)
    log = RequestLog(folder, NAME, rotate_rows=250)
    feedback = []
    for index in range(len(frame)):
        row = frame.iloc[[index]]
        served = "2" if index % 5 == 0 else "1"
        at = START + index * 3600.0 / REQUESTS_PER_HOUR
        request_id = f"r{index}"
        prediction = models[served].predict(row)
        log.log(request_id, at, served, FEATURES, row.to_numpy().tolist(), prediction, 0.001)
        if index % 10 == 1:
            shadow = models["2"].predict(row)
            log.log(request_id, at, "2", FEATURES, row.to_numpy().tolist(), shadow, 0.001, "1")
        if index % 2 == 0:
            feedback.append((request_id, int(truth.iloc[index])))
    log.close()
    FeedbackStore(folder, NAME).add(feedback)
    return folder


def test_windows_versions_and_feedback_performance(store: str, service_log: Path) -> None:
    result = api.monitor(
        f"{NAME}@champion", service_log=str(service_log), window="1h", tracking_uri=store
    )
    document = result.to_json()
    assert document["source"]["kind"] == "service-log"
    assert document["versions"] == ["1", "2"]
    windows = document["windows"]
    assert [w["start"] for w in windows] == [
        "2026-12-02T10:00:00+00:00",
        "2026-12-02T11:00:00+00:00",
        "2026-12-02T12:00:00+00:00",
    ]
    for window in windows:
        # 800 served by v1, 200 by v2, 100 shadow answers of v2
        assert window["versions"] == {"1": 800, "2": 300}
        assert window["rows"] == 1100
        between = window["prediction_drift"]["between_versions"]
        assert between["versions"] == ["1", "2"]
        assert between["column"] == "prediction"
        performance = window["performance"]
        assert performance["source"] == "feedback" and performance["rows"] == 500
        assert performance["metrics"]["accuracy"] > 0.8
        assert window["drift"]["drifted"] is False
    assert document["fired"] == []


def test_since_keeps_the_latest_windows(store: str, service_log: Path) -> None:
    result = api.monitor(
        f"{NAME}@champion",
        service_log=str(service_log),
        since="2026-12-02T12:00:00+00:00",
        window="30m",
        tracking_uri=store,
    )
    assert [w.rows for w in result.windows] == [550, 550]
    assert result.windows[0].start is not None
    assert result.windows[0].start.isoformat() == "2026-12-02T12:00:00+00:00"
