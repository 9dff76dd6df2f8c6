"""The in-process engine's warm workers: a template per run, a fresh fork per step."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import psutil
import pytest

from jupyter_mlops.artifacts.store import ArtifactStore
from jupyter_mlops.execute.engines.base import StepJob, StepOutcome
from jupyter_mlops.execute.engines.worker_pool import DIED, TEMPLATE_DIED, WorkerPool
from jupyter_mlops.runtime.stepio import STORE_ENV

COMMON = """
import os

LOADED_IN = os.getpid()
SEEN = []
"""

STEPS = {
    "where": "from pkg.common import LOADED_IN\n\n\ndef where():\n"
    "    import os\n    return [LOADED_IN, os.getpid()]\n",
    "append": "from pkg.common import SEEN\n\n\ndef append(item):\n"
    "    SEEN.append(item)\n    return list(SEEN)\n",
    "sleeper": "def sleeper(meet):\n    import os, pathlib, time\n"
    "    pathlib.Path(meet).write_text(str(os.getpid()))\n    time.sleep(600)\n",
}


@pytest.fixture
def pipeline(tmp_path: Path) -> Path:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "common.py").write_text(COMMON)
    for name, code in STEPS.items():
        (package / f"{name}.py").write_text(code)
    return tmp_path


def job(folder: Path, step: str, **params: object) -> StepJob:
    work = folder / "work" / f"{step}-{time.monotonic_ns()}"
    work.mkdir(parents=True)
    return StepJob(
        pipeline_dir=folder,
        step=step,
        cell=1,
        module=f"pkg.{step}",
        notebook=folder / f"{step}.ipynb",
        params=dict(params),
        input_paths={},
        outputs=["value"] if step != "sleeper" else [],
        store_root=folder / "store",
        work_dir=work,
        report_path=work / "report.ipynb",
    )


def value(folder: Path, outcome: StepOutcome) -> object:
    assert outcome.ok, outcome.error
    return ArtifactStore(folder / "store").get(outcome.outputs["value"])


def where(folder: Path, pool: WorkerPool) -> tuple[int, int]:
    """(pid that imported the setup module, pid that ran the step) of one step run."""
    pids = value(folder, pool.run(job(folder, "where")))
    assert isinstance(pids, list) and len(pids) == 2
    return int(pids[0]), int(pids[1])


def descendants() -> set[int]:
    processes = psutil.Process().children(recursive=True)
    return {p.pid for p in processes if p.status() != psutil.STATUS_ZOMBIE}


def wait_for(path: Path) -> None:
    deadline = time.monotonic() + 60
    while not path.exists() or not path.read_text():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


def test_steps_run_in_forks_of_a_template_that_imported_the_setup_module(pipeline: Path) -> None:
    pool = WorkerPool(
        ["pkg.common"], pipeline_dir=pipeline, env={STORE_ENV: str(pipeline / "store")}
    )
    try:
        loaded_in, first = where(pipeline, pool)
        _, second = where(pipeline, pool)
        assert loaded_in == pool.pid  # imported once, in the template
        assert len({first, second, pool.pid, os.getpid()}) == 4  # one new process per step
    finally:
        pool.close()


def test_a_step_never_sees_what_an_earlier_step_did_to_the_setup_globals(pipeline: Path) -> None:
    pool = WorkerPool(
        ["pkg.common"], pipeline_dir=pipeline, env={STORE_ENV: str(pipeline / "store")}
    )
    try:
        assert value(pipeline, pool.run(job(pipeline, "append", item="a"))) == ["a"]
        assert value(pipeline, pool.run(job(pipeline, "append", item="b"))) == ["b"]
    finally:
        pool.close()


def test_a_killed_step_fails_and_the_pool_goes_on(pipeline: Path) -> None:
    pool = WorkerPool([], pipeline_dir=pipeline, env={STORE_ENV: str(pipeline / "store")})
    try:
        meet = pipeline / "meet"
        outcomes: list[StepOutcome] = []
        sleeper = job(pipeline, "sleeper", meet=str(meet))
        worker = threading.Thread(target=lambda: outcomes.append(pool.run(sleeper)))
        worker.start()
        wait_for(meet)
        os.kill(int(meet.read_text()), signal.SIGKILL)
        worker.join(timeout=60)
        assert outcomes[0].error == DIED
        assert value(pipeline, pool.run(job(pipeline, "append", item="c"))) == ["c"]
    finally:
        pool.close()


def test_close_while_a_step_runs_ends_it_and_leaves_no_process(pipeline: Path) -> None:
    before = descendants()
    pool = WorkerPool(
        ["pkg.common"], pipeline_dir=pipeline, env={STORE_ENV: str(pipeline / "store")}
    )
    meet = pipeline / "meet"
    outcomes: list[StepOutcome] = []
    sleeper = job(pipeline, "sleeper", meet=str(meet))
    worker = threading.Thread(target=lambda: outcomes.append(pool.run(sleeper)))
    worker.start()
    wait_for(meet)
    assert len(descendants() - before) == 2  # the template and the step's fork
    pool.close()
    worker.join(timeout=60)
    assert not worker.is_alive() and outcomes[0].error == DIED
    assert descendants() - before == set()
    assert pool.run(job(pipeline, "where")).error == "the worker pool is closed"


def test_a_dead_template_fails_the_step_with_a_message(pipeline: Path) -> None:
    pool = WorkerPool([], pipeline_dir=pipeline, env={STORE_ENV: str(pipeline / "store")})
    try:
        assert pool.pid is not None
        os.kill(pool.pid, signal.SIGKILL)
        psutil.Process(pool.pid).wait(timeout=30)
        assert pool.run(job(pipeline, "where")).error == TEMPLATE_DIED
    finally:
        pool.close()
