"""The ``inprocess`` engine: call each step function directly, in a fresh worker process.

Workers are forks of a warm template process started for the run (``worker_pool``): each
step starts from a clean interpreter state (like a fresh kernel) without paying for a Python
start-up or for importing the setup code, which the template imported once.
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
from pathlib import Path
from typing import Any

from jupyter_mlops.errors import MlopsError, WorkerPoolError
from jupyter_mlops.execute.engines.base import (
    StepJob,
    StepOutcome,
    Stopwatch,
    format_modules,
    setup_libraries,
    setup_module,
    user_traceback,
)
from jupyter_mlops.execute.engines.worker_pool import WorkerPool
from jupyter_mlops.runtime.stepio import STORE_ENV

# What every worker needs before its step runs: this module (and with it step I/O).
WORKER_PRELOAD = ("jupyter_mlops.execute.engines.inprocess",)


class InProcessEngine:
    """Runs step functions in single-use forks of a warm template process, one per run."""

    name = "inprocess"

    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)
        self._lock = threading.Lock()
        self._pools: dict[Path, WorkerPool] = {}
        self._closed = False  # after close (Ctrl-C), no template starts until prepare

    def prepare(
        self,
        jobs_expected: int,
        *,
        pipeline_dir: Path | str | None = None,
        store_root: Path | str | None = None,
    ) -> None:
        """Start the run's template process (it imports in the background); without the
        run's folders, the first ``run`` starts it."""
        with self._lock:
            self._closed = False
        if pipeline_dir is not None and store_root is not None:
            self._pool_for(Path(pipeline_dir).resolve(), Path(store_root).resolve())

    def run(self, job: StepJob) -> StepOutcome:
        watch = Stopwatch()
        try:
            pool = self._pool_for(Path(job.pipeline_dir).resolve(), Path(job.store_root).resolve())
        except WorkerPoolError as error:
            return StepOutcome(error=error.message, seconds=watch.seconds())
        outcome = pool.run(job)
        outcome.seconds = watch.seconds()
        return outcome

    def close(self) -> None:
        """End every template and the steps still running in them; a step started later
        fails, until ``prepare`` starts a new run."""
        with self._lock:
            self._closed = True
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.close()

    def _pool_for(self, folder: Path, store: Path) -> WorkerPool:
        """The pool of ``folder`` (its setup module preloaded), started on first use."""
        with self._lock:
            if self._closed:
                raise WorkerPoolError("the engine was closed (run interrupted)")
            pool = self._pools.get(folder)
            if pool is None:
                module = setup_module(folder)
                formats, idle_formats = format_modules(folder)
                pool = WorkerPool(
                    [
                        *WORKER_PRELOAD,
                        *formats,
                        *setup_libraries(folder),
                        *([module] if module else []),
                    ],
                    idle_formats,
                    pipeline_dir=folder,
                    env={STORE_ENV: str(store)},
                )
                self._pools[folder] = pool
            return pool


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
