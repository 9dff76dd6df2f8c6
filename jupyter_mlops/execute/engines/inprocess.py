"""The ``inprocess`` engine: call each step function directly, in a fresh worker process.

Workers come from a forkserver, so each step starts from a clean interpreter state (like a
fresh kernel) without paying for a new Python start-up; heavy libraries are imported by the
step's own module, exactly as the step notebook would.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import sys
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from jupyter_mlops.errors import MlopsError
from jupyter_mlops.execute.engines.base import (
    StepJob,
    StepOutcome,
    Stopwatch,
    setup_libraries,
    user_traceback,
)

# What every worker needs: this module, step I/O and the formats outputs are saved in.
WORKER_PRELOAD = ("jupyter_mlops.execute.engines.inprocess", "pyarrow.parquet", "skops.io")


class InProcessEngine:
    """Runs step functions in a pool of single-use worker processes."""

    name = "inprocess"

    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)
        self._pool: ProcessPoolExecutor | None = None

    def prepare(
        self,
        jobs_expected: int,
        *,
        pipeline_dir: Path | str | None = None,
        store_root: Path | str | None = None,
    ) -> None:
        context = multiprocessing.get_context("forkserver")
        libraries = setup_libraries(Path(pipeline_dir)) if pipeline_dir is not None else []
        context.set_forkserver_preload([*WORKER_PRELOAD, *libraries])
        self._pool = ProcessPoolExecutor(
            max_workers=max(1, min(self.workers, jobs_expected)),
            mp_context=context,
            max_tasks_per_child=1,
        )

    def run(self, job: StepJob) -> StepOutcome:
        if self._pool is None:
            self.prepare(1)
        assert self._pool is not None
        watch = Stopwatch()
        future: Future[StepOutcome] = self._pool.submit(execute_step_function, job)
        try:
            outcome = future.result()
        except BrokenProcessPool:
            outcome = StepOutcome(error="the worker process running the step died (killed?)")
        except Exception as error:  # e.g. a result that cannot be sent back
            outcome = StepOutcome(error=f"{type(error).__name__}: {error}")
        outcome.seconds = watch.seconds()
        return outcome

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def execute_step_function(job: StepJob) -> StepOutcome:
    """In a worker: load inputs, call the step function, store its outputs."""
    from jupyter_mlops.runtime import load_input, save_outputs
    from jupyter_mlops.runtime.stepio import read_outputs

    sys.path.insert(0, str(job.pipeline_dir))
    os.environ["JUPYTER_MLOPS_STORE"] = str(job.store_root)
    os.chdir(job.pipeline_dir)
    capture_output(job.work_dir / "output.log")
    module = importlib.import_module(job.module)
    function = getattr(module, job.step)
    user_files = {str(Path(module.__file__ or "").resolve())}
    user_files.add(str(Path(module.__file__ or "").with_name("common.py").resolve()))
    try:
        arguments = {var: load_input(path) for var, path in job.input_paths.items()}
    except MlopsError as error:
        return StepOutcome(error=str(error))
    arguments.update(job.params)
    try:
        returned = function(**arguments)
    except BaseException as error:  # the user's code: report whatever it raised
        return StepOutcome(
            error=f"{type(error).__name__}: {error}", traceback=user_traceback(error, user_files)
        )
    try:
        save_outputs(str(job.work_dir), returned_outputs(returned, job.outputs))
    except (MlopsError, ValueError, TypeError) as error:
        return StepOutcome(error=str(error))
    return StepOutcome(outputs=read_outputs(str(job.work_dir)))


def returned_outputs(returned: Any, names: list[str]) -> dict[str, Any]:
    """Map a step function's return value to its output names (one value, or a tuple)."""
    if not names:
        return {}
    if len(names) == 1:
        return {names[0]: returned}
    if not isinstance(returned, tuple) or len(returned) != len(names):
        raise ValueError(
            f"the step function must return a tuple of {len(names)} values "
            f"({', '.join(names)}), got {type(returned).__name__}"
        )
    return dict(zip(names, returned, strict=True))


def capture_output(log: Path) -> None:
    """Send this worker's stdout and stderr (also from C code) to ``log``, like a kernel's
    output goes to the report rather than to the runner's terminal."""
    sys.stdout.flush()
    sys.stderr.flush()
    descriptor = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(descriptor, 1)
    os.dup2(descriptor, 2)
    os.close(descriptor)
