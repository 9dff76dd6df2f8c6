"""Live run records (``execute/live_record.py``): real ``jupyter mlops run`` subprocesses of a
small notebook write ``<pipeline>/.mlops/live/<run id>.json`` while they run and when they end.

The ``load`` step waits for a file the test creates (parameter ``gate``), so a record is read
while a step runs without any sleep or timing assumption.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mlflow_fixtures import client_for
from nbfactory import write_notebook

from jupyter_mlops import api
from jupyter_mlops.errors import RunCancelled
from jupyter_mlops.execute.live_record import KEEP_RECORDS, live_dir, read_records
from jupyter_mlops.tracking.history import recent_runs

SETUP = "import os\nimport time"
PARAMS = ("gate = ''\nn = 4\nfail = False", ["parameters"])
LOAD = (
    "%%mlstep load\nif gate:\n    open(gate + '.started', 'w').close()\n"
    "while gate and not os.path.exists(gate):\n    time.sleep(0.02)\nvalues = list(range(n))"
)
TOTAL = (
    "%%mlstep total --metrics scores\nif fail:\n    raise ValueError('the total is cursed')\n"
    "scores = {'total': float(sum(values))}"
)
CELLS: list[Any] = [SETUP, PARAMS, LOAD, TOTAL]
LIVE_ENV = ("CI", "JUPYTER_MLOPS_RUN_ID", "JUPYTER_MLOPS_RUN_SOURCE")


@pytest.fixture
def flow(tmp_path: Path) -> Path:
    """``<tmp>/project/flow.ipynb``: load (waits for ``gate``) → total (metrics)."""
    (tmp_path / "project").mkdir()
    return write_notebook(tmp_path / "project" / "flow.ipynb", CELLS)


@pytest.fixture(autouse=True)
def plain_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No CI flag, run id or source inherited from the machine running the tests."""
    for name in LIVE_ENV:
        monkeypatch.delenv(name, raising=False)


def folder_of(notebook: Path) -> Path:
    return notebook.parent / "pipelines" / notebook.stem


def start(notebook: Path, *args: str, **env: str) -> subprocess.Popen[str]:
    """``jupyter mlops run NOTEBOOK --json --engine inprocess ARGS`` in the background."""
    command = [sys.executable, "-m", "jupyter_mlops.cli", "run", notebook.name, "--json"]
    return subprocess.Popen(
        [*command, "--engine", "inprocess", *args],
        cwd=notebook.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
    )


def run(notebook: Path, *args: str, **env: str) -> tuple[int, str, str]:
    process = start(notebook, *args, **env)
    out, err = process.communicate(timeout=300)
    return process.returncode, out, err


def wait_for_record(notebook: Path, step: str, state: str) -> dict[str, Any]:
    """Poll the live folder until one record shows ``step`` in ``state`` (bounded)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        for record in read_records(folder_of(notebook)):
            if any(s["name"] == step and s["state"] == state for s in record["steps"]):
                return record
        time.sleep(0.05)
    raise AssertionError(f"no live record with step {step} {state}")


@pytest.fixture
def gate(tmp_path: Path) -> Iterator[Path]:
    """The file the ``load`` step waits for (it creates ``gate.started`` first); created at
    the end so no step waits forever."""
    path = tmp_path / "gate"
    yield path
    path.touch()


def test_a_cli_run_is_running_while_a_step_runs_then_succeeded(flow: Path, gate: Path) -> None:
    process = start(flow, "--no-track", "-p", f"gate={str(gate)!r}")
    try:
        running = wait_for_record(flow, "load", "running")
        assert running["status"] == "running"
        assert running["source"] == "cli"
        assert running["params"] == {"gate": str(gate), "n": 4, "fail": False}
        assert running["path"] == str(flow.resolve())
        assert (running["pid"], running["host"]) == (process.pid, socket.gethostname())
        assert [(s["name"], s["state"]) for s in running["steps"]] == [
            ("load", "running"),
            ("total", "waiting"),
        ]
        assert running["summary"] is None and running["ended"] is None
        assert "since" not in running["steps"][0]  # its seconds are counted when read
        assert api.live_run(flow, running["id"])["status"] == "running"  # its process lives
    finally:
        gate.touch()
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    [done] = api.live_runs(flow)
    assert done["id"] == running["id"]
    assert done["status"] == "succeeded"
    assert done["summary"] == json.loads(out)
    assert done["summary"]["metrics"] == {"total": 6.0}
    assert [(s["name"], s["state"]) for s in done["steps"]] == [("load", "ran"), ("total", "ran")]
    assert done["ended"] is not None and done["elapsed"] > 0
    assert done["error"] is None and done["failed_step"] is None and done["traceback"] is None
    assert done["recording"] is False and done["log"] == []
    # the run id is the work folder's stamp
    assert (folder_of(flow) / ".mlops" / "runs" / done["id"]).is_dir()


def test_ci_source_and_a_run_id_from_the_environment(flow: Path) -> None:
    code, _, err = run(flow, "--no-track", CI="true", JUPYTER_MLOPS_RUN_ID="ci-run_42")
    assert code == 0, err
    record = api.live_run(flow, "ci-run_42")
    assert (record["source"], record["status"]) == ("ci", "succeeded")
    assert (live_dir(folder_of(flow)) / "ci-run_42.json").is_file()


def test_the_source_set_by_a_front_end_wins_over_ci(flow: Path) -> None:
    code, _, err = run(flow, "--no-track", CI="1", JUPYTER_MLOPS_RUN_SOURCE="trigger")
    assert code == 0, err
    assert api.live_runs(flow)[0]["source"] == "trigger"


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"JUPYTER_MLOPS_RUN_ID": "../escape"}, "JUPYTER_MLOPS_RUN_ID must be 1 to 64 letters"),
        ({"JUPYTER_MLOPS_RUN_ID": "x" * 65}, "JUPYTER_MLOPS_RUN_ID must be 1 to 64 letters"),
        ({"JUPYTER_MLOPS_RUN_SOURCE": "cron"}, "JUPYTER_MLOPS_RUN_SOURCE must be one of panel"),
    ],
)
def test_a_bad_run_id_or_source_is_refused_before_anything_runs(
    flow: Path, env: dict[str, str], words: str
) -> None:
    code, out, err = run(flow, "--no-track", **env)
    assert code == 2
    assert words in err and "Traceback" not in err
    assert out == ""
    assert not live_dir(folder_of(flow)).exists()
    assert not (folder_of(flow) / ".mlops" / "runs").exists()


def test_a_failing_step_names_itself_with_its_traceback(flow: Path) -> None:
    code, out, _ = run(flow, "--no-track", "-p", "fail=True")
    assert code == 1
    [record] = api.live_runs(flow)
    assert record["status"] == "failed"
    assert record["failed_step"] == "total"
    assert "ValueError: the total is cursed" in record["traceback"]
    assert record["error"].startswith("step 'total' (notebook cell 4) failed")
    assert record["summary"] == json.loads(out)
    assert {s["name"]: s["state"] for s in record["steps"]} == {"load": "ran", "total": "failed"}


def test_a_killed_run_is_reported_failed_with_its_pid(flow: Path, gate: Path) -> None:
    process = start(flow, "--no-track", "-p", f"gate={str(gate)!r}")
    running = wait_for_record(flow, "load", "running")
    process.kill()  # SIGKILL: nothing of the run can write its end
    process.communicate(timeout=60)
    on_disk = json.loads((live_dir(folder_of(flow)) / f"{running['id']}.json").read_text())
    assert on_disk["status"] == "running"
    [seen] = api.live_runs(flow)
    assert seen["status"] == "failed"
    assert seen["error"] == f"the run's process (pid {process.pid}) ended without finishing"
    assert {s["name"]: s["state"] for s in seen["steps"]} == {"load": "failed", "total": "not_run"}


def test_ctrl_c_leaves_a_cancelled_record(flow: Path, gate: Path) -> None:
    process = start(flow, "--no-track", "-p", f"gate={str(gate)!r}")
    running = wait_for_record(flow, "load", "running")
    started = gate.with_name("gate.started")  # the step's code runs: its worker is up
    deadline = time.monotonic() + 120
    while not started.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    record = api.live_run(flow, running["id"])
    assert (record["status"], record["error"]) == ("cancelled", "cancelled")
    assert {s["name"]: s["state"] for s in record["steps"]} == {
        "load": "not_run",
        "total": "not_run",
    }


def test_a_folder_keeps_the_newest_records_and_those_still_running(flow: Path) -> None:
    assert run(flow, "--no-track")[0] == 0  # extracts the pipeline
    live = live_dir(folder_of(flow))
    for path in live.glob("*.json"):
        path.unlink()
    for day in range(1, 61):
        fake_record(live, f"old-{day:02d}", f"2025-01-{day % 28 + 1:02d}T{day % 24:02d}:00:00Z")
    alive = fake_record(live, "still-going", "2024-01-01T00:00:00Z", status="running")
    assert run(flow, "--no-track")[0] == 0
    kept = {path.stem for path in live.glob("*.json")}
    newest = [r["id"] for r in read_records(folder_of(flow), limit=100)]
    assert len(kept) == KEEP_RECORDS + 1  # the 50 newest, and a run whose process lives
    assert alive in kept and newest[-1] == alive
    assert newest[0] not in {f"old-{day:02d}" for day in range(1, 61)}  # this run's own


def fake_record(live: Path, run_id: str, started: str, status: str = "succeeded") -> str:
    """A record of an earlier run: ended, or running in this (living) test process."""
    data: dict[str, Any] = {"id": run_id, "status": status, "started": started, "steps": []}
    data |= {"pid": os.getpid(), "host": socket.gethostname()}
    (live / f"{run_id}.json").write_text(json.dumps(data), encoding="utf-8")
    return run_id


def test_started_from_is_tagged_on_the_parent_run(flow: Path, tracking_uri: str) -> None:
    code, out, err = run(flow, "--tracking-uri", tracking_uri)
    assert code == 0, err
    summary = json.loads(out)
    tags = client_for(tracking_uri).get_run(summary["run_id"]).data.tags
    assert tags["mlops.started_from"] == "cli"
    [listed] = recent_runs(tracking_uri, "flow")["runs"]
    assert listed["started_from"] == "cli"
    assert api.live_runs(flow)[0]["mlflow_run_id"] == summary["run_id"]


class Refuses:
    """A front end's progress that raises when a step starts."""

    def __init__(self, error: BaseException) -> None:
        self.error = error

    def running(self, step: str) -> None:
        raise self.error

    def finished(self, step: str, status: str, seconds: float = 0.0) -> None:
        pass


@pytest.mark.parametrize(
    ("error", "status", "message"),
    [
        (RunCancelled("run cancelled"), "cancelled", "cancelled"),
        (RuntimeError("the panel broke"), "failed", "RuntimeError: the panel broke"),
    ],
)
def test_an_exception_escaping_an_in_process_run_ends_its_record(
    flow: Path, error: BaseException, status: str, message: str
) -> None:
    options = api.RunOptions(engine="inprocess", track=False, source="widget")
    options.progress = Refuses(error)
    with pytest.raises(type(error)):
        api.run(flow, options)
    [record] = api.live_runs(flow)
    assert (record["source"], record["status"], record["error"]) == ("widget", status, message)
    assert all(s["state"] == "not_run" for s in record["steps"])
    assert record["ended"] is not None
