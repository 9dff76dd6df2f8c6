"""Work on a pipeline's code done outside the CLI process: one single-use worker per call.

Re-scoring the champion (gates) and trying steps on sampled fixtures import the pipeline's
modules and call user code; doing it in a fresh worker keeps that code, its globals and its
output out of the runner. The worker is a fork of a ``WorkerPool`` template started for the
call, so it dies with the CLI (even SIGKILLed) and is killed on Ctrl-C; no forkserver or
resource tracker is left behind.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, TypeVar

from jupyter_mlops.errors import WorkerPoolError
from jupyter_mlops.execute.engines.worker_pool import WorkerPool

Result = TypeVar("Result")
WORKER_DIED = "the worker process died (killed?)"


def call_in_fresh_process(function: Callable[[Any], Result], job: Any) -> Result:
    """``function(job)`` in a new worker process that serves only this call; raises what the
    call raised, or ``WorkerPoolError`` when the worker died. ``function`` and ``job`` are
    pickled (``function`` by reference: a module-level function)."""
    pool = WorkerPool(preload=(), shutdown_timeout=5.0)
    try:
        connection = pool.start(FunctionCall(function, job))
        try:
            succeeded, value = connection.recv()
        except (EOFError, OSError):
            raise WorkerPoolError(WORKER_DIED) from None
        finally:
            connection.close()
    finally:
        pool.close()  # on Ctrl-C too: it kills the worker
    if succeeded:
        return value  # type: ignore[no-any-return]
    raise value


@dataclass(frozen=True)
class FunctionCall:
    """Call ``function(job)`` in a child of the template; send ``(True, result)`` or
    ``(False, exception)`` back."""

    function: Callable[[Any], Any]
    job: Any

    def run_in_child(self, connection: Connection) -> None:
        try:
            answer: tuple[bool, Any] = (True, self.function(self.job))
        except BaseException as error:  # noqa: BLE001 - user code: hand whatever it raised back
            answer = (False, error)
        try:
            connection.send(answer)
        except Exception as error:  # noqa: BLE001 - not picklable: send its description
            kind = "result" if answer[0] else "error"
            detail = f"{type(answer[1]).__name__}: {answer[1]}"
            connection.send((False, RuntimeError(f"the {kind} ({detail}) cannot be sent: {error}")))
        connection.close()


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
