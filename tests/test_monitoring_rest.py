"""The Monitoring endpoints of the server extension, through a real Jupyter server
(pytest-jupyter) reading monitoring windows recorded in a real MLflow SQLite store by
``monitor/recording.py`` and a real trigger state file. Pipeline ``shop``: models
``shop-clf`` (three windows, a report on the latest) and ``shop-reg`` (never monitored)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from mlflow_fixtures import client_for
from monitoring_windows import CLF, REG, monitoring_experiment_in, pipeline, window
from nbfactory import write_notebook

# pytest-jupyter's fixtures, for this module only (as in test_server.py).
from pytest_jupyter.jupyter_server import *  # noqa: F403
from test_server import Api, jp_server_config, no_closed_event_loop_left  # noqa: F401

from jupyter_mlops.monitor.recording import log_report, record_windows
from jupyter_mlops.monitor.window_runs import TESTS_TAG
from jupyter_mlops.server.monitoring import REPORT_POLICY

REPORT = "<!doctype html><html><body><h1>Monitoring report of shop-clf</h1></body></html>"


@pytest.fixture
def api(jp_fetch: Any, jp_asyncio_loop: Any, jp_serverapp: Any) -> Api:
    return Api(jp_fetch, jp_asyncio_loop, jp_serverapp)


@pytest.fixture
def store(tracking_uri: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The store the Jupyter server's MLflow calls use."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking_uri)
    return tracking_uri


@pytest.fixture
def monitored(store: str, tmp_path: Path) -> str:
    """Three windows of ``shop-clf`` (the last one estimated), a report on the latest."""
    monitoring_experiment_in(store, CLF, tmp_path)
    windows = [window(0, 0.95), window(1, 0.9), window(2, 0.8, estimated=True)]
    record_windows(store, CLF, "source-1", windows, datetime.now(UTC))
    report = tmp_path / "report.html"
    report.write_text(REPORT, encoding="utf-8")
    latest = windows[-1].mlflow_run_id
    assert latest is not None
    log_report(store, latest, str(report))
    client_for(store).set_tag(latest, TESTS_TAG, json.dumps({"petal": "ks", "sepal": "ks"}))
    return store


def write_state(folder: Path, fired: datetime) -> None:
    (folder / ".mlops").mkdir(exist_ok=True)
    state = {
        "last_evaluated": fired.isoformat(),
        "last_fired": fired.isoformat(),
        "fingerprint": None,
        "summary": None,
        "last_run": {"run_id": "r1", "status": "succeeded", "reason": "accuracy 0.8 < 0.85"},
    }
    text = json.dumps({"version": 1, "triggers": {"decaying": state}})
    (folder / ".mlops" / "triggers.json").write_text(text, encoding="utf-8")


def test_overview_shows_latest_window_trend_and_triggers(
    api: Api, jp_root_dir: Path, monitored: str
) -> None:
    folder = pipeline(jp_root_dir)
    write_state(folder, datetime.now(UTC) - timedelta(minutes=10))
    code, shown = api.get("monitoring", path="work/shop.ipynb")
    assert code == 200, shown
    assert (shown["folder"], shown["pipeline"], shown["problem"]) == (
        "work/pipelines/shop",
        "shop",
        None,
    )
    clf, reg = shown["models"]
    assert (clf["name"], clf["step"], clf["experiment"]) == (CLF, "train", "shop-clf-monitoring")
    assert clf["monitored"] and clf["hint"] is None and clf["problem"] is None
    latest = clf["latest"]
    assert (latest["start"], latest["end"]) == (
        "2026-12-02T10:00:00+00:00",
        "2026-12-02T11:00:00+00:00",
    )
    assert (latest["rows"], latest["versions"]) == (300, {"1": 180, "2": 120})
    assert latest["drift"]["share"] == 0.5 and latest["drift"]["dataset_drifted"] is True
    columns = {c["column"]: c for c in latest["drift"]["columns"]}
    assert columns["petal"]["drifted"] is True and columns["sepal"]["drifted"] is False
    assert columns["petal"]["statistic"] == pytest.approx(0.6)
    assert columns["petal"]["test"] == "ks"
    assert latest["prediction_drift"] == {"statistic": 0.25, "drifted": False}
    assert latest["performance"]["estimated"] is True
    assert latest["performance"]["metrics"]["accuracy"] == pytest.approx(0.8)
    assert latest["report"] is True
    accuracy = clf["trend"]["metrics"]["accuracy"]
    assert clf["trend"]["windows"] == 3 and set(clf["trend"]["metrics"]) == {"accuracy", "f1"}
    assert [round(p["value"], 2) for p in accuracy] == [0.95, 0.9, 0.8]  # oldest first
    assert [p["estimated"] for p in accuracy] == [False, False, True]
    assert not reg["monitored"] and reg["latest"] is None
    assert reg["hint"].startswith("not monitored yet: start with `jupyter mlops monitor shop-reg")
    nightly, decaying = shown["triggers"]
    assert (nightly["name"], nightly["kind"], nightly["settings"]) == (
        "nightly",
        "schedule",
        "cron 0 3 * * * (UTC)",
    )
    assert nightly["last_fired"] is None and nightly["cooldown_remaining_seconds"] == 0
    assert decaying["settings"] == "accuracy < 0.85 in 2 windows of shop-clf"
    assert decaying["reason"] == "accuracy 0.8 < 0.85"
    assert decaying["last_run"] == {"run_id": "r1", "status": "succeeded"}
    assert 0 < decaying["cooldown_remaining_seconds"] <= 3000  # 1 h cool-down, fired 10 min ago
    assert shown["triggers_problem"] is None


def test_report_is_served_as_html_under_a_restrictive_policy(
    jp_fetch: Any, jp_asyncio_loop: Any, jp_root_dir: Path, monitored: str
) -> None:
    pipeline(jp_root_dir)
    response = jp_asyncio_loop.run_until_complete(
        jp_fetch(
            "jupyter-mlops",
            "monitoring/report",
            params={"path": "work/pipelines/shop", "model": CLF},
        )
    )
    assert response.code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.headers["Content-Security-Policy"] == REPORT_POLICY
    assert "default-src 'none'" in REPORT_POLICY and "sandbox" in REPORT_POLICY
    assert response.body.decode("utf-8") == REPORT


def test_no_report_is_a_json_404_naming_the_model(
    api: Api, jp_root_dir: Path, store: str, tmp_path: Path
) -> None:
    pipeline(jp_root_dir)
    monitoring_experiment_in(store, CLF, tmp_path)
    record_windows(store, CLF, "source-1", [window(0, 0.9)], datetime.now(UTC))
    for model in (CLF, REG):  # monitored without a report; never monitored
        code, reply = api.get("monitoring/report", path="work/shop.ipynb", model=model)
        assert code == 404, reply
        assert (
            reply["model"] == model
            and f"model '{model}' has no monitoring report" in reply["message"]
        )


def test_user_errors_are_4xx(api: Api, jp_root_dir: Path, store: str) -> None:
    pipeline(jp_root_dir)
    code, reply = api.get("monitoring/report", path="work/shop.ipynb", model="other")
    assert (
        code == 400
        and "model 'other' is not a registered model of pipeline 'shop'" in (reply["message"])
    )
    assert api.get("monitoring/report", path="work/shop.ipynb")[0] == 400  # no model
    assert api.get("monitoring/report", path="work/shop.ipynb", model="a/b")[0] == 400
    assert api.get("monitoring")[0] == 400  # no path
    assert api.get("monitoring", path="/etc")[0] == 400
    assert api.get("monitoring", path="../outside")[0] == 403
    code, reply = api.get("monitoring", path="work/missing.ipynb")
    assert code == 404 and "missing.ipynb" in reply["message"]


def test_never_extracted_and_malformed_triggers(api: Api, jp_root_dir: Path, store: str) -> None:
    (jp_root_dir / "lone").mkdir()
    write_notebook(jp_root_dir / "lone" / "lone.ipynb", ["x = 1"])
    code, shown = api.get("monitoring", path="lone/lone.ipynb")
    assert code == 200 and shown["models"] == [] and shown["triggers"] == []
    pipeline(jp_root_dir, "triggers:\n  nightly:\n    kind: schedule\n")
    code, shown = api.get("monitoring", path="work/shop.ipynb")
    assert code == 200, shown
    assert shown["triggers"] == [] and "triggers.nightly.cron" in shown["triggers_problem"]
    assert [m["monitored"] for m in shown["models"]] == [False, False]
    (jp_root_dir / "second").mkdir()
    folder = pipeline(jp_root_dir / "second")
    write_state(folder, datetime.now(UTC))
    state = folder / ".mlops" / "triggers.json"
    state.write_text(state.read_text().replace('"last_fired": "', '"last_fired": "not a time'))
    code, shown = api.get("monitoring", path="second/work/shop.ipynb")
    assert code == 200 and shown["triggers"] == []
    problem = shown["triggers_problem"]
    assert "second/work/pipelines/shop/.mlops/triggers.json: Invalid isoformat" in problem


@pytest.mark.parametrize("endpoint", ["monitoring", "monitoring/report"])
def test_unauthenticated_requests_are_refused(api: Api, endpoint: str) -> None:
    params = {"path": "work/shop.ipynb", "model": CLF}
    code, _ = api("GET", endpoint, params=params, headers={"Authorization": ""})
    assert code in (401, 403)
