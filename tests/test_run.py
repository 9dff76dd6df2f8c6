"""Headless runs of extracted pipelines (in-process engine): caching, failures, resume, params."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from nbfactory import write_notebook

from jupyter_mlops.authoring.scan import scan_notebook
from jupyter_mlops.execute.runner import RunOptions, run_pipeline
from jupyter_mlops.extract.writer import write_package

SETUP = "import json\nimport os\nimport time\n\ndef double(v):\n    return v * factor\n"
PARAMS = ("factor = 2\nbase = 10", ["parameters"])
LOAD = "%%mlstep load\nnumbers = list(range(base))"
LEFT = "%%mlstep left\nleft_total = sum(double(n) for n in numbers)"
RIGHT = "%%mlstep right\nright_max = max(numbers)"
REPORT = (
    "%%mlstep report --metrics scores\n"
    "scores = {'left': float(left_total), 'right': float(right_max)}"
)
CELLS = [SETUP, PARAMS, LOAD, LEFT, RIGHT, REPORT]


def extract(tmp_path: Path, cells: list) -> Path:
    notebook = write_notebook(tmp_path / "flow.ipynb", cells)
    out = tmp_path / "pipelines" / "flow"
    write_package(scan_notebook(notebook), out)
    return out


def cli_run(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jupyter_mlops.cli", "run", str(folder), "--engine", "inprocess",
         "--no-track", "--json", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip


def statuses(result: subprocess.CompletedProcess[str]) -> dict[str, str]:
    summary = json.loads(result.stdout)
    return {name: step["status"] for name, step in summary["steps"].items()}


def run(folder: Path, **options: object) -> dict[str, str]:
    result = run_pipeline(folder, RunOptions(engine="inprocess", track=False, **options))  # type: ignore[arg-type]
    return {name: step.status for name, step in result.steps.items()}


def test_cold_then_cached_then_edit_reruns_only_what_changed(tmp_path: Path) -> None:
    folder = extract(tmp_path, CELLS)
    first = cli_run(folder)
    assert first.returncode == 0, first.stderr
    assert set(statuses(first).values()) == {"ran"}
    summary = json.loads(first.stdout)
    assert summary["metrics"] == {"left": 90.0, "right": 9.0}
    assert summary["error"] is None and summary["model_version"] is None

    assert set(statuses(cli_run(folder)).values()) == {"cached"}

    # A comment and whitespace edit does not invalidate anything.
    extract(tmp_path, [SETUP, PARAMS, LOAD, LEFT + "  # note\n\n", RIGHT, REPORT])
    assert set(statuses(cli_run(folder)).values()) == {"cached"}

    # Changing `right` reruns it; `report` reruns because right_max changed; `left` is cached.
    extract(tmp_path, [SETUP, PARAMS, LOAD, LEFT, RIGHT + " + 1", REPORT])
    assert statuses(cli_run(folder)) == {
        "load": "cached", "left": "cached", "right": "ran", "report": "ran"
    }  # fmt: skip

    # A change whose output is identical stops at that step: report stays cached.
    extract(
        tmp_path,
        [SETUP, PARAMS, LOAD, LEFT, "%%mlstep right\nright_max = 1 + max(numbers)", REPORT],
    )
    assert statuses(cli_run(folder)) == {
        "load": "cached", "left": "cached", "right": "ran", "report": "cached"
    }  # fmt: skip

    assert set(statuses(cli_run(folder, "--force")).values()) == {"ran"}


def test_setup_code_change_reruns_its_users_only(tmp_path: Path) -> None:
    folder = extract(tmp_path, CELLS)
    run(folder)
    extract(tmp_path, [SETUP.replace("v * factor", "v * factor * 1.0"), *CELLS[1:]])
    assert run(folder) == {"load": "cached", "left": "ran", "right": "cached", "report": "ran"}


def test_parameter_override_reaches_the_steps_that_use_it(tmp_path: Path) -> None:
    folder = extract(tmp_path, CELLS)
    run(folder)
    result = cli_run(folder, "-p", "factor=3")
    assert result.returncode == 0, result.stderr
    assert statuses(result) == {"load": "cached", "left": "ran", "right": "cached", "report": "ran"}
    assert json.loads(result.stdout)["metrics"] == {"left": 135.0, "right": 9.0}
    bigger = json.loads(cli_run(folder, "-p", "base=4", "-p", "factor=1").stdout)
    assert bigger["metrics"] == {"left": 6.0, "right": 3.0}


def test_unknown_parameter_and_bad_assignment_exit_2(tmp_path: Path) -> None:
    folder = extract(tmp_path, CELLS)
    result = cli_run(folder, "-p", "nope=1")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: unknown parameter 'nope' (declared parameters: factor, base)"
    )
    assert cli_run(folder, "-p", "factor").stderr.strip() == (
        "error: -p expects NAME=VALUE, got 'factor'"
    )
    refused = cli_run(folder, "-p", "factor=3.5")  # the panel's form words it the same
    assert refused.returncode == 2
    assert refused.stderr.strip() == "error: parameter 'factor' expects an integer, got 3.5"


def test_failing_step_stops_dependants_but_not_independent_branches(tmp_path: Path) -> None:
    failing = (
        "%%mlstep left\nleft_total = sum(double(n) for n in numbers)\nraise ValueError('bad batch')"
    )
    folder = extract(tmp_path, [SETUP, PARAMS, LOAD, failing, RIGHT, REPORT])
    result = cli_run(folder)
    assert result.returncode == 1
    assert statuses(result) == {
        "load": "ran", "left": "failed", "right": "ran", "report": "not_run"
    }  # fmt: skip
    summary = json.loads(result.stdout)
    assert summary["status"] == "failed"
    assert summary["error"] == "step 'left' (notebook cell 4) failed: ValueError: bad batch"
    assert "error: step 'left' failed: ValueError: bad batch" in result.stderr
    assert 'raise ValueError("bad batch")' in result.stderr  # the user's line
    assert "jupyter_mlops" not in result.stderr.split("Traceback", 1)[1]  # no runner frames

    # After the fix only the failed step and its dependants run.
    extract(tmp_path, CELLS)
    assert statuses(cli_run(folder)) == {
        "load": "cached", "left": "ran", "right": "cached", "report": "ran"
    }  # fmt: skip


def test_sigkill_mid_step_then_rerun_reuses_completed_steps(tmp_path: Path) -> None:
    marker = tmp_path / "slow-started"
    slow = (
        "%%mlstep left\n"
        f"open({str(marker)!r}, 'w').close()\n"
        "time.sleep(float(os.environ.get('SLOW_STEP', '0')))\n"
        "left_total = sum(double(n) for n in numbers)"
    )
    folder = extract(tmp_path, [SETUP, PARAMS, LOAD, slow, RIGHT, REPORT])
    process = subprocess.Popen(
        [sys.executable, "-m", "jupyter_mlops.cli", "run", str(folder), "--engine", "inprocess",
         "--no-track", "--workers", "1"],
        env={**os.environ, "SLOW_STEP": "60"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert time.monotonic() < deadline, "the slow step never started"
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()

    result = cli_run(folder)
    assert result.returncode == 0, result.stderr
    assert statuses(result)["load"] == "cached"
    assert statuses(result)["left"] == "ran"


def test_half_written_artifact_is_never_trusted(tmp_path: Path) -> None:
    folder = extract(tmp_path, CELLS)
    run(folder)
    objects = [p for p in (folder / ".mlops" / "objects").rglob("*.json") if ".meta." not in p.name]
    for path in objects:
        path.write_text(path.read_text()[:-2])  # truncate every stored object
    assert set(run(folder).values()) == {"ran"}


def test_from_and_only(tmp_path: Path) -> None:
    folder = extract(tmp_path, CELLS)
    run(folder)
    assert run(folder, from_step="left") == {
        "load": "cached", "left": "ran", "right": "cached", "report": "ran"
    }  # fmt: skip
    assert run(folder, only=["right"]) == {
        "load": "cached", "left": "not_run", "right": "ran", "report": "not_run"
    }  # fmt: skip


def test_only_needs_cached_upstream(tmp_path: Path) -> None:
    folder = extract(tmp_path, CELLS)
    result = run_pipeline(folder, RunOptions(engine="inprocess", track=False, only=["left"]))
    assert result.steps["load"].status == "failed"
    assert "not selected by --only" in (result.steps["load"].error or "")


def test_unknown_step_name_is_refused(tmp_path: Path) -> None:
    folder = extract(tmp_path, CELLS)
    result = cli_run(folder, "--only", "nosuch")
    assert result.returncode == 2
    assert "no step named 'nosuch' (steps: load, left, right, report)" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--engine", "nosuch"], "error: unknown engine 'nosuch' (available: inprocess, papermill"),
        (["--workers", "-3"], "error: --workers must be 0 (one per CPU) or more, not -3"),
        (["--only", "left", "--from", "right"], "error: --only and --from select steps in two"),
    ],
)
def test_meaningless_options_are_refused_before_anything_runs_even_when_all_is_cached(
    tmp_path: Path, args: list[str], message: str
) -> None:
    folder = extract(tmp_path, CELLS)
    run(folder)  # everything cached: the options are still checked
    objects = sorted(p.name for p in (folder / ".mlops").rglob("*"))
    done = cli_run(folder, *args)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.startswith(message), done.stderr
    assert done.stdout == ""
    assert sorted(p.name for p in (folder / ".mlops").rglob("*")) == objects  # nothing written


def test_non_dict_metrics_fail_the_step(tmp_path: Path) -> None:
    folder = extract(tmp_path, [*CELLS[:5], "%%mlstep report --metrics scores\nscores = [1, 2]"])
    result = cli_run(folder)
    assert result.returncode == 1
    assert "--metrics variable 'scores' must be a dict of name → number, not list" in result.stderr


def test_run_accepts_a_notebook_and_refuses_a_broken_one(tmp_path: Path) -> None:
    notebook = write_notebook(tmp_path / "flow.ipynb", CELLS)
    result = cli_run(notebook)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "pipelines" / "flow" / "pipeline.yaml").exists()
    broken = write_notebook(tmp_path / "broken.ipynb", ["%%mlstep a\nx = missing"])
    result = cli_run(broken)
    assert result.returncode == 2
    assert "reads 'missing'" in result.stderr
    assert not (tmp_path / "pipelines" / "broken").exists()


@pytest.mark.parametrize("workers", [1, 2])
def test_progress_lines_in_plain_mode(tmp_path: Path, workers: int) -> None:
    folder = extract(tmp_path, CELLS)
    result = cli_run(folder, "--workers", str(workers))
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert any(line.startswith("✓ load") and "done in" in line for line in lines)
    assert any(line.startswith("succeeded: 4 ran") for line in lines)


@pytest.mark.parametrize("engine", ["inprocess", "papermill"])
def test_unserializable_output_fails_the_step_naming_variable_and_type(
    tmp_path: Path, engine: str, kernel_name: str
) -> None:
    cells = [*CELLS[:3], "%%mlstep left\nleft_total = (n for n in numbers)", RIGHT, REPORT]
    folder = extract(tmp_path, cells)
    result = run_pipeline(folder, RunOptions(engine=engine, track=False))
    left = result.steps["left"]
    assert left.status == "failed"
    assert "cannot store 'left_total' of type generator" in (left.error or "")
    assert result.steps["report"].status == "not_run"
    assert result.steps["right"].status == "ran"


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("nosuch://somewhere", "error: unsupported tracking URI scheme 'nosuch' (MLflow takes"),
        ("sqlite:///{tmp}/missing/mlflow.db", "error: the folder of the SQLite tracking store"),
        ("http://127.0.0.1:{port}", "error: cannot reach the MLflow server at http://127.0.0.1:"),
    ],
    ids=["scheme", "sqlite folder", "server down"],
)
def test_an_unusable_tracking_store_is_refused_before_any_step(
    tmp_path: Path, uri: str, message: str
) -> None:
    folder = extract(tmp_path, CELLS)
    uri = uri.format(tmp=tmp_path, port=closed_port())
    command = [sys.executable, "-m", "jupyter_mlops.cli", "run", str(folder)]
    done = subprocess.run(
        [*command, "--engine", "inprocess", "--tracking-uri", uri, "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.startswith(message), done.stderr
    assert "\n" not in done.stderr.strip()  # one line
    assert not (folder / ".mlops" / "objects").exists()  # no step ran


@pytest.mark.parametrize("command", ["show", "extract", "run"])
def test_a_path_too_long_for_the_file_system_is_one_line_exit_2(command: str) -> None:
    target = "a" * 5000 + ".ipynb"
    done = subprocess.run(
        [sys.executable, "-m", "jupyter_mlops.cli", command, target],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr == (
        f"error: {'a' * 60}… (5006 characters): the path is too long: a name may have at most "
        "255 bytes and a path 4096\n"
    )
