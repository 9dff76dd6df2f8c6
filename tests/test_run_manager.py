"""RunManager (background runs for the server) and the --progress-events stream it reads."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import psutil
import pytest
from nbfactory import write_notebook

from jupyter_mlops.cli.progress import ProgressEvents
from jupyter_mlops.server.run_manager import (
    ManagedRun,
    RunConflict,
    RunManager,
    RunNotFound,
    StepState,
)

CELLS = [
    "import time",
    ("pause = 0.0", ["parameters"]),
    "%%mlstep first\ntime.sleep(pause)\nvalue = 1",
    "%%mlstep second\ndoubled = value * 2",
]


def test_progress_events_are_one_json_line_per_state_change() -> None:
    stream = io.StringIO()
    with ProgressEvents(["load", "train"], stream=stream) as events:
        events.running("load")
        events.finished("load", "ran", 1.23456)
        events.finished("train", "not_run")
    assert [json.loads(line) for line in stream.getvalue().splitlines()] == [
        {"step": "load", "state": "waiting", "seconds": 0.0},
        {"step": "train", "state": "waiting", "seconds": 0.0},
        {"step": "load", "state": "running", "seconds": 0.0},
        {"step": "load", "state": "ran", "seconds": 1.235},
        {"step": "train", "state": "not_run", "seconds": 0.0},
    ]


@pytest.fixture
def manager() -> RunManager:
    runs = RunManager(cancel_grace=2.0)
    yield runs
    runs.shutdown()


def start(manager: RunManager, notebook: Path, **options: object):  # type: ignore[no-untyped-def]
    folder = notebook.parent / "pipelines" / notebook.stem
    return manager.start(
        notebook,
        folder=folder,
        pipeline=notebook.stem,
        steps=["first", "second"],
        engine="inprocess",
        **options,  # type: ignore[arg-type]
    )


def test_a_run_reports_steps_log_and_summary(
    manager: RunManager, tmp_path: Path, tracking_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking_uri)
    notebook = write_notebook(tmp_path / "flow.ipynb", CELLS)
    run = start(manager, notebook, params={"pause": 0.01})
    assert "-p" in run.process.args and "pause=0.01" in run.process.args
    done = manager.wait(run.id, timeout=240).snapshot()
    assert done["status"] == "succeeded", done
    assert [(s["name"], s["state"]) for s in done["steps"]] == [("first", "ran"), ("second", "ran")]
    assert done["summary"]["steps"]["second"]["status"] == "ran"
    assert done["mlflow_run_id"] == done["summary"]["run_id"] is not None
    assert "[first] running" in done["log"] and done["error"] is None
    assert manager.get(run.id) is run and manager.runs() == [run]


def test_bad_input_fails_with_the_cli_error_line(manager: RunManager, tmp_path: Path) -> None:
    notebook = write_notebook(tmp_path / "flow.ipynb", CELLS)
    run = start(manager, notebook, params={"unknown": 1})
    done = manager.wait(run.id, timeout=120).snapshot()
    assert done["status"] == "failed" and done["summary"] is None
    assert "unknown parameter 'unknown'" in done["error"]


def test_cancel_stops_the_worker_processes_too(manager: RunManager, tmp_path: Path) -> None:
    notebook = write_notebook(tmp_path / "flow.ipynb", CELLS)
    run = start(manager, notebook, params={"pause": 300.0})
    deadline = time.monotonic() + 120
    while run.steps["first"].state != "running":
        assert time.monotonic() < deadline and not run.finished, run.snapshot()
        time.sleep(0.05)
    root = psutil.Process(run.process.pid)
    while len(root.children(recursive=True)) < 2:  # the worker template and the step's fork
        assert time.monotonic() < deadline, "no worker process started"
        time.sleep(0.05)
    processes = [root, *root.children(recursive=True)]
    with pytest.raises(RunConflict, match="already running"):
        start(manager, notebook)
    alias = tmp_path / "alias"  # the same folder through a symlink: the same pipeline
    alias.symlink_to(tmp_path, target_is_directory=True)
    with pytest.raises(RunConflict, match="already running"):
        start(manager, alias / notebook.name)
    manager.cancel(run.id)
    done = manager.wait(run.id, timeout=60).snapshot()
    assert done["status"] == "cancelled" and done["error"] == "cancelled"
    assert {s["state"] for s in done["steps"]} == {"not_run"}
    assert psutil.wait_procs(processes, timeout=30)[1] == []
    with pytest.raises(RunConflict, match="already cancelled"):
        manager.cancel(run.id)


def test_finished_runs_are_forgotten_after_a_while(tmp_path: Path) -> None:
    manager = RunManager(keep_seconds=0.0)
    run = manager.start(
        tmp_path / "missing", folder=tmp_path / "missing", pipeline="x", steps=[]
    )  # exits 2 at once: no such pipeline folder
    manager.wait(run.id, timeout=60)
    assert "missing" in (run.error or "")
    time.sleep(0.01)
    with pytest.raises(RunNotFound, match="kept for 0 h"):
        manager.get(run.id)


def test_events_update_steps_and_the_end_sets_the_status() -> None:
    run = ManagedRun("r1", "flow.ipynb", "/p", "flow", None, {"a": StepState("a")})  # type: ignore[arg-type]
    run.on_stderr_line('{"step": "a", "state": "running", "seconds": 0.0}')
    run.on_stderr_line("some output")
    assert run.snapshot()["steps"][0]["state"] == "running"
    assert not run.snapshot()["recording"]
    run.on_stderr_line('{"step": "a", "state": "ran", "seconds": 1.5}')
    assert run.snapshot()["recording"]  # every step ended, the process still records
    summary = {"status": "succeeded", "run_id": "abc", "steps": {}, "error": None}
    run.on_exit(0, "noise\n" + json.dumps(summary, indent=2) + "\n")
    snapshot = run.snapshot()
    assert snapshot["status"] == "succeeded" and snapshot["mlflow_run_id"] == "abc"
    assert snapshot["steps"] == [{"name": "a", "state": "ran", "seconds": 1.5}]
    assert snapshot["log"] == ["[a] running", "some output", "[a] ran (1.50 s)"]
    assert not snapshot["recording"]


@pytest.mark.parametrize(
    "summary",
    [None, {"status": "failed", "steps": {"b": {"status": "failed"}}}],
    ids=["the process died: no summary", "a failed run's summary"],
)
def test_no_step_stays_running_once_a_failed_run_ended(summary: dict | None) -> None:
    steps = {name: StepState(name) for name in "abc"}
    run = ManagedRun("r2", "flow.ipynb", "/p", "flow", None, steps)  # type: ignore[arg-type]
    run.on_stderr_line('{"step": "a", "state": "ran", "seconds": 0.5}')
    run.on_stderr_line('{"step": "b", "state": "running", "seconds": 0.0}')
    run.on_exit(1, json.dumps(summary) if summary else "")
    first = run.snapshot()
    assert first["status"] == "failed"
    assert {s["name"]: s["state"] for s in first["steps"]} == {
        "a": "ran",
        "b": "failed",
        "c": "not_run",
    }
    assert run.snapshot()["steps"] == first["steps"]  # nothing grows after the end
