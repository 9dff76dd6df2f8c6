"""Signals: Ctrl-C stops a run of either engine with one line and exit 130; SIGKILL of the CLI
leaves no process behind (templates, step workers, kernels die with it); a re-run succeeds.

Real ``jupyter-mlops run`` processes, started in their own session as a terminal starts a job.
Deadlines are generous bounds, never the assertion; the Ctrl-C stop time (signal to exit) is
printed: ``pytest -s -k ctrl_c tests/reliability/test_signals.py``. SIGKILL rounds: 3 per
engine, 20 in ``make reliability-table`` (``JUPYTER_MLOPS_RELIABILITY_ROUNDS``).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import pytest
from nbfactory import write_notebook

from jupyter_mlops import api

CLI = str(Path(sys.executable).with_name("jupyter-mlops"))
ENGINES = ["inprocess", "papermill"]
INTERRUPTED = "interrupted; completed steps are cached"
SIGKILL_SCENARIO = "SIGKILL of the CLI (mid-step or starting), both engines"
BOUND = 180.0  # seconds: a generous bound for anything to happen, never a speed requirement
CELLS = [
    "import pathlib\nimport time",
    ("pause = 0.0\nmeet = ''", ["parameters"]),
    "%%mlstep first\nvalue = 1",
    "%%mlstep second\nif meet:\n    pathlib.Path(meet).touch()\ntime.sleep(pause)\n"
    "doubled = value * 2",
]


def extracted(base: Path) -> Path:
    """A two-step pipeline whose ``second`` step touches ``meet`` and sleeps ``pause`` s."""
    base.mkdir(parents=True, exist_ok=True)
    notebook = write_notebook(base / "flow.ipynb", CELLS)
    return Path(api.extract(notebook).folder)


def start(folder: Path, engine: str, *args: str) -> tuple[subprocess.Popen[bytes], Path]:
    """``jupyter-mlops run FOLDER`` as a terminal job: a new session (the CLI leads its
    process group); stderr goes to a file, returned too."""
    stderr = folder.parent.parent / f"stderr-{time.monotonic_ns()}.txt"
    with stderr.open("wb") as sink:
        process = subprocess.Popen(
            [CLI, "run", str(folder), "--engine", engine, "--no-track", *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=sink,
            cwd=folder.parent.parent,
            env={**os.environ, "JUPYTER_MLOPS_TRACKING": "0"},
            start_new_session=True,
        )
    return process, stderr


def long_step_args(meet: Path) -> list[str]:
    return ["-p", "pause=600.0", "-p", f"meet={str(meet)!r}"]


def wait_until(condition, process: subprocess.Popen[bytes], what: str) -> None:  # type: ignore[no-untyped-def]
    """Poll ``condition`` until it holds (bounded), while ``process`` still runs."""
    deadline = time.monotonic() + BOUND
    while not condition():
        assert process.poll() is None, f"the run ended (exit {process.returncode}) before {what}"
        assert time.monotonic() < deadline, f"no {what} after {BOUND:.0f} s"
        time.sleep(0.02)


def tree(pid: int) -> list[psutil.Process]:
    """Process ``pid`` and its descendants."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def processes_in(base: Path) -> list[psutil.Process]:
    """Processes (other than this one) whose working directory is inside ``base``: the CLI,
    templates, step workers and kernels all run there, orphans included."""
    found = []
    for process in psutil.process_iter():
        try:
            if process.pid != os.getpid() and Path(process.cwd()).is_relative_to(base):
                found.append(process)
        except (psutil.Error, OSError):
            continue
    return found


def leftovers(base: Path, seen: list[psutil.Process]) -> list[str]:
    """Wait (bounded) until no process of ``seen`` nor any in ``base`` is alive; describes
    those still alive then, after killing them so that a failure leaves nothing behind."""
    deadline = time.monotonic() + 60
    alive: list[psutil.Process] = []
    while time.monotonic() < deadline:
        alive = [p for p in {*seen, *processes_in(base)} if _running(p)]
        if not alive:
            return []
        time.sleep(0.1)
    described = [_describe(p) for p in alive]
    for process in alive:
        with contextlib.suppress(psutil.Error):
            process.kill()
    return described


def _running(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _describe(process: psutil.Process) -> str:
    try:
        return f"{process.pid} {' '.join(process.cmdline())[:120]}"
    except psutil.Error:
        return str(process.pid)


def rerun(folder: Path, engine: str) -> dict[str, str] | None:
    """A normal run after the signal: its steps' states, or None when it failed."""
    done = subprocess.run(
        [CLI, "run", str(folder), "--engine", engine, "--no-track", "--json"],
        capture_output=True,
        text=True,
        timeout=BOUND,
        env={**os.environ, "JUPYTER_MLOPS_TRACKING": "0"},
    )
    if done.returncode != 0:
        print(done.stderr)
        return None
    return step_states(json.loads(done.stdout[done.stdout.index("{") :]))


def step_states(summary: dict) -> dict[str, str]:
    return {name: step["status"] for name, step in summary["steps"].items()}


def interrupt(folder: Path, engine: str, to_group: bool) -> tuple[int, str, float, list[str]]:
    """Ctrl-C a run mid-step: exit code, stderr written after the signal, seconds from the
    signal to the CLI's exit, and the processes left."""
    meet = folder.parent.parent / f"meet-{time.monotonic_ns()}"
    process, stderr = start(folder, engine, *long_step_args(meet))
    wait_until(meet.exists, process, "step 'second' running")
    seen = tree(process.pid)
    before = stderr.stat().st_size
    signalled = time.monotonic()
    if to_group:
        os.killpg(process.pid, signal.SIGINT)
    else:
        os.kill(process.pid, signal.SIGINT)
    code = process.wait(timeout=BOUND)
    seconds = time.monotonic() - signalled
    after = stderr.read_bytes()[before:].decode(errors="replace")
    return code, after, seconds, leftovers(folder.parent.parent, seen)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("to_group", [True, False], ids=["terminal", "pid"])
def test_ctrl_c_stops_the_run_with_one_line_and_exit_130(
    engine: str, to_group: bool, kernel_name: str, tmp_path: Path, figures: Any
) -> None:
    folder = extracted(tmp_path)
    code, after, seconds, left = interrupt(folder, engine, to_group)
    print(
        f"Ctrl-C ({'terminal' if to_group else 'pid'}) stopped the {engine} run in {seconds:.2f} s"
    )
    states = rerun(folder, engine)
    figures.add(
        "Ctrl-C mid-step, both engines (process group, CLI pid)",
        interrupts=1,
        exit_130=int(code == 130),
        one_line=int(after == INTERRUPTED + "\n"),
        stopped_within_2_s=int(seconds <= 2.0),  # shown, not asserted: load varies
        orphan_processes=len(left),
        completed_steps_cached=int(states == {"first": "cached", "second": "ran"}),
    )
    assert code == 130
    assert after == INTERRUPTED + "\n"
    assert left == []
    assert states == {"first": "cached", "second": "ran"}


# Ctrl-C while the first step's engine is being made (a real SIGINT, in a child process so
# pytest never sees it). The engine here is a stand-in whose steps wait until it is closed:
# a run that lost track of it would wait for that step; the fix closes it once it exists.
CTRL_C_AT_ENGINE_START = """
import faulthandler, json, os, signal, sys, threading, time
from jupyter_mlops.execute import runner
from jupyter_mlops.execute.engines.base import StepOutcome

faulthandler.dump_traceback_later(90, exit=False)
events = []

class EngineClosedLate:
    def __init__(self):
        self.closed = threading.Event()

    def prepare(self, *args, **kwargs):
        events.append("prepared")

    def run(self, job):
        events.append("run on a closed engine" if self.closed.is_set() else "run")
        self.closed.wait(120)
        return StepOutcome(error="stopped")

    def close(self):
        events.append("closed")
        self.closed.set()

def make_engine(name, settings):
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(0.5)  # the main thread takes the Ctrl-C while the engine does not exist yet
    return EngineClosedLate()

runner.get_executor = make_engine
try:
    runner.run_pipeline(sys.argv[1], runner.RunOptions(track=False))
    print(json.dumps({"interrupted": False}))
except KeyboardInterrupt:
    steps = [t for t in threading.enumerate() if t.name.startswith("mlops-step")]
    for thread in steps:
        thread.join(60)
    alive = [t.name for t in steps if t.is_alive()]
    print(json.dumps({"interrupted": True, "events": events, "steps_alive": alive}))
    sys.stdout.flush()
    os._exit(0)  # a step thread still alive must not hold the exit
"""


def test_ctrl_c_while_the_first_engine_starts_runs_no_step(tmp_path: Path) -> None:
    folder = extracted(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", CTRL_C_AT_ENGINE_START, str(folder)],
        capture_output=True,
        text=True,
        timeout=BOUND,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["interrupted"], done.stdout
    assert result["steps_alive"] == []
    assert result["events"][:1] == ["prepared"] and "closed" in result["events"]


def kill_moment(round_index: int, rng: random.Random) -> str:
    """Where round ``round_index`` SIGKILLs the CLI: mid-step, or at a random moment of the
    start (templates or kernels still importing)."""
    return "mid-step" if round_index % 2 == 0 else f"after {rng.uniform(0.2, 3.0):.2f} s"


@pytest.mark.parametrize("engine", ENGINES)
def test_sigkill_of_the_cli_leaves_no_process_and_a_rerun_succeeds(
    engine: str, kernel_name: str, tmp_path: Path, rounds: int, figures: Any
) -> None:
    folder = extracted(tmp_path)
    rng = random.Random(f"sigkill-{engine}")
    orphans = []
    for round_index in range(rounds):
        meet = tmp_path / f"meet-{round_index}"
        process, _ = start(folder, engine, "--force", *long_step_args(meet))
        moment = kill_moment(round_index, rng)
        if moment == "mid-step":
            wait_until(meet.exists, process, "step 'second' running")
        else:
            time.sleep(float(moment.split()[1]))
        seen = tree(process.pid)
        process.kill()
        assert process.wait(timeout=BOUND) == -signal.SIGKILL
        left = leftovers(tmp_path, seen)
        orphans += [f"round {round_index} (SIGKILL {moment}): {name}" for name in left]
        figures.add(SIGKILL_SCENARIO, kills=1, orphan_processes=len(left))
    states = rerun(folder, engine)
    figures.add(SIGKILL_SCENARIO, failed_reruns=int(states is None))
    assert orphans == []
    assert states is not None and states["second"] in ("ran", "cached")


# A fresh worker (gates re-scoring, fixture checks) busy in a long call, in a process like the CLI.
FRESH_CALL = """
import time
from jupyter_mlops.execute.fresh_process import call_in_fresh_process
call_in_fresh_process(time.sleep, 600)
"""


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGINT], ids=["sigkill", "ctrl-c"])
def test_a_fresh_process_worker_dies_with_the_cli(
    signum: int, tmp_path: Path, figures: Any
) -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", FRESH_CALL],
        stdin=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=tmp_path,
        start_new_session=True,
    )
    wait_until(lambda: len(tree(process.pid)) >= 3, process, "the worker (template and fork)")
    seen = tree(process.pid)
    if signum == signal.SIGINT:  # Ctrl-C reaches the whole process group
        os.killpg(process.pid, signum)
    else:  # SIGKILL of the parent alone: its workers must follow it
        os.kill(process.pid, signum)
    assert process.wait(timeout=BOUND) == -signum
    left = leftovers(tmp_path, seen)
    figures.add(
        "fresh worker (gates, fixture checks): SIGKILL / Ctrl-C of its parent",
        signals=1,
        orphan_processes=len(left),
    )
    assert left == []
