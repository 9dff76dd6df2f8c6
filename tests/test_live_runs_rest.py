"""Runs started anywhere, through the REST API of a real Jupyter server (pytest-jupyter): ``GET
run?path=`` merges the server's own runs with the live records of CLI runs, ``GET run/<id>?path=``
shows a CLI run, ``GET runs`` says where each run was started; ``POST models/<name>/promote``.
Runs are real ``jupyter mlops run`` subprocesses recording into a real MLflow SQLite store."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from nbfactory import write_notebook

# pytest-jupyter's fixtures, for this module only (as in test_server.py).
from pytest_jupyter.jupyter_server import *  # noqa: F403
from test_live_runs import CELLS, LIVE_ENV
from test_promotion import NAME, add_versions
from test_server import Api, jp_server_config, no_closed_event_loop_left  # noqa: F401

NOTEBOOK = "work/flow.ipynb"


@pytest.fixture
def tracking(tracking_uri: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Runs (the server's and the CLI's) and the server's MLflow queries use this store;
    nothing of the machine's CI flag or run ids leaks in."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking_uri)
    for name in LIVE_ENV:
        monkeypatch.delenv(name, raising=False)
    return tracking_uri


@pytest.fixture
def api(jp_fetch: Any, jp_asyncio_loop: Any, jp_serverapp: Any) -> Iterator[Api]:
    yield Api(jp_fetch, jp_asyncio_loop, jp_serverapp)
    jp_serverapp.web_app.settings["jupyter_mlops.runs"].shutdown()


@pytest.fixture
def flow(jp_root_dir: Path) -> Path:
    (jp_root_dir / "work").mkdir()
    return write_notebook(jp_root_dir / NOTEBOOK, CELLS)


@pytest.fixture
def gate(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "gate"
    yield path
    path.touch()


def poll(read: Callable[[], dict[str, Any] | None], what: str) -> dict[str, Any]:
    """Call ``read`` until it returns something (bounded)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        found = read()
        if found is not None:
            return found
        time.sleep(0.1)
    raise AssertionError(f"never saw {what}")


def listed(api: Api) -> list[dict[str, Any]]:
    code, body = api.get("run", path=NOTEBOOK)
    assert code == 200, body
    return list(body["runs"])


def step_states(run: dict[str, Any]) -> dict[str, str]:
    return {s["name"]: s["state"] for s in run["steps"]}


def test_a_cli_run_is_listed_while_running_and_after(
    api: Api, flow: Path, gate: Path, jp_root_dir: Path, tracking: str
) -> None:
    command = [sys.executable, "-m", "jupyter_mlops.cli", "run", NOTEBOOK, "--engine", "inprocess"]
    process = subprocess.Popen(
        [*command, "-p", f"gate={str(gate)!r}"],
        cwd=jp_root_dir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    try:
        running = poll(
            lambda: next((r for r in listed(api) if step_states(r)["load"] == "running"), None),
            "the CLI run running",
        )
        assert (running["status"], running["source"], running["path"]) == (
            "running",
            "cli",
            NOTEBOOK,
        )
        assert running["params"]["gate"] == str(gate)
    finally:
        gate.touch()
    _, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    [done] = listed(api)
    assert (done["id"], done["status"]) == (running["id"], "succeeded")
    assert step_states(done) == {"load": "ran", "total": "ran"}
    code, one = api.get(f"run/{done['id']}", path=NOTEBOOK)
    assert code == 200 and one == done
    assert one["summary"]["metrics"] == {"total": 6.0}
    assert str(jp_root_dir) not in str(one)  # paths relative to the root
    code, missing = api.get(f"run/{done['id']}")  # not one of the server's own runs
    assert code == 404 and done["id"] in missing["message"]
    code, unknown = api.get("run/nope", path=NOTEBOOK)
    assert code == 404 and "'nope'" in unknown["message"]
    [history] = api.get("runs", path=NOTEBOOK)[1]["runs"]
    assert history["started_from"] == "cli"
    assert history["id"] == done["mlflow_run_id"]


def test_a_panel_run_is_listed_once_with_its_record(
    api: Api, flow: Path, gate: Path, tracking: str
) -> None:
    code, started = api.post(
        "run", {"path": NOTEBOOK, "engine": "inprocess", "params": {"gate": str(gate)}}
    )
    assert code == 202, started
    assert started["source"] == "panel"
    try:
        running = poll(
            lambda: next((r for r in listed(api) if "pid" in r), None), "the panel run's record"
        )  # the record's own fields (pid, host) merged into the server's snapshot
        assert running["id"] == started["id"] and running["source"] == "panel"
        assert running["status"] == "running" and running["path"] == NOTEBOOK
    finally:
        gate.touch()
    run = api.wait(started["id"])
    assert run["status"] == "succeeded", run
    [once] = listed(api)
    assert (once["id"], once["source"], once["status"]) == (started["id"], "panel", "succeeded")
    assert once["failed_step"] is None and once["log"]  # the server's log tail
    assert api.get("run", path=NOTEBOOK, log="0")[1]["runs"][0]["log"] == []
    assert api.get(f"run/{started['id']}", path=NOTEBOOK)[1]["source"] == "panel"
    [history] = api.get("runs", path=NOTEBOOK)[1]["runs"]
    assert history["started_from"] == "panel"


def test_a_cancelled_panel_run_leaves_a_cancelled_record(
    api: Api, flow: Path, gate: Path, jp_serverapp: Any, tracking: str
) -> None:
    code, started = api.post(
        "run", {"path": NOTEBOOK, "engine": "inprocess", "params": {"gate": str(gate)}}
    )
    assert code == 202
    poll(lambda: next((r for r in listed(api) if "pid" in r), None), "the panel run's record")
    assert api("DELETE", f"run/{started['id']}")[0] == 202
    assert api.wait(started["id"])["status"] == "cancelled"
    runs = jp_serverapp.web_app.settings["jupyter_mlops.runs"]
    runs._runs.clear()  # as after a restart: only the record is left
    [record] = listed(api)
    assert (record["id"], record["status"], record["error"]) == (
        started["id"],
        "cancelled",
        "cancelled",
    )


def test_promote_moves_the_alias_and_refuses_a_rejected_version(
    api: Api, tracking: str, tmp_path: Path
) -> None:
    add_versions(tracking, tmp_path, "validated", "rejected")
    code, done = api.post(f"models/{NAME}/promote", {"version": "1"})
    assert code == 200, done
    assert done == {
        "name": NAME,
        "alias": "champion",
        "version": "1",
        "previous": None,
        "forced": False,
        "gate": {"outcome": "passed", "reason": None},
        "message": "churn: champion (unset) → 1 (gate: validated)",
    }
    code, refused = api.post(f"models/{NAME}/promote", {"version": 2, "alias": "champion"})
    assert code == 409
    assert refused == {
        "message": "version 2 of model 'churn' was rejected by the gates (reason of 2)",
        "version": "2",
    }
    code, forced = api.post(f"models/{NAME}/promote", {"version": "2", "force": True})
    assert code == 200
    assert (forced["previous"], forced["forced"]) == ("1", True)
    assert forced["gate"] == {"outcome": "failed", "reason": "reason of 2"}
    assert api.post(f"models/{NAME}/promote", {"version": "two"})[0] == 400
    assert api.post(f"models/{NAME}/promote", {"version": "9"})[0] == 400
    assert api.post("models/unknown/promote", {})[0] == 400


@pytest.mark.parametrize(
    ("method", "endpoint"),
    [("GET", "run"), ("GET", "run/abc"), ("POST", f"models/{NAME}/promote")],
)
def test_unauthenticated_requests_are_refused(api: Api, method: str, endpoint: str) -> None:
    body = {"version": "1"} if method == "POST" else None
    params = {"path": NOTEBOOK} if method == "GET" else None
    code, _ = api(method, endpoint, body, params=params, headers={"Authorization": ""})
    assert code in (401, 403)
