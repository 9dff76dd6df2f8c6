"""Work on a pipeline's code done outside the CLI process: one single-use worker per call.

Re-scoring the champion (gates) and trying steps on sampled fixtures import the pipeline's
modules and call user code; doing it in a fresh ``forkserver`` worker keeps that code, its
globals and its output out of the runner.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

Result = TypeVar("Result")


def call_in_fresh_process(function: Callable[[Any], Result], job: Any) -> Result:
    """``function(job)`` in a new worker process that serves only this call; raises what the
    call raised, or the pool's error when the worker died."""
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(1, mp_context=context, max_tasks_per_child=1) as pool:
        return pool.submit(function, job).result()


def enter_pipeline_folder(pipeline_dir: str, log_path: str, *, new_log: bool = False) -> None:
    """In the worker: import from and work in ``pipeline_dir``; stdout and stderr (also from
    C code) are appended to ``log_path`` (emptied first with ``new_log``)."""
    from jupyter_mlops.execute.engines.inprocess import capture_output

    sys.path.insert(0, pipeline_dir)
    os.chdir(pipeline_dir)
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    if new_log:
        Path(log_path).write_text("", encoding="utf-8")
    capture_output(Path(log_path))
