"""Warm workers for the ``inprocess`` engine: one template process per run and pipeline.

The template (``worker_template``) starts at once in the background, imports the step runtime,
the setup code's libraries and the pipeline's setup module once, and forks a fresh child for
every step, so steps pay neither a Python start-up nor these imports, and never share state.
A pool belongs to one run: a new run (possibly with re-extracted setup code) gets a new one.
``close`` (also run at interpreter exit) ends the template and any step still running.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from jupyter_mlops.errors import WorkerPoolError
from jupyter_mlops.execute.engines.base import StepJob, StepOutcome, close_at_exit, closed_already

TEMPLATE_MODULE = "jupyter_mlops.execute.engines.worker_template"
DIED = "the worker process running the step died (killed?)"
TEMPLATE_DIED = "the worker template process died (killed?)"


class WorkerPool:
    """A warm template process that forks one single-use worker per step.

    ``preload`` is imported before the first step is served; ``idle_preload`` while no step
    waits (modules only some steps need, e.g. the estimator format). The template runs in
    ``pipeline_dir`` (also first on ``sys.path``) with ``env`` added to the environment.
    """

    def __init__(
        self,
        preload: Sequence[str],
        idle_preload: Sequence[str] = (),
        pipeline_dir: Path | None = None,
        env: Mapping[str, str] | None = None,
        shutdown_timeout: float = 10.0,
    ) -> None:
        self.shutdown_timeout = shutdown_timeout
        self._lock = threading.Lock()
        config = {
            "preload": list(preload),
            "idle_preload": list(idle_preload),
            "pipeline_dir": str(pipeline_dir) if pipeline_dir is not None else None,
            "env": dict(env or {}),
        }
        self._control, remote = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        with remote:
            self._process: subprocess.Popen[bytes] | None = subprocess.Popen(
                [sys.executable, "-m", TEMPLATE_MODULE, str(remote.fileno()), json.dumps(config)],
                pass_fds=[remote.fileno()],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd=pipeline_dir,
            )
        close_at_exit(self)

    @property
    def pid(self) -> int | None:
        """The template's process id while it runs."""
        return self._process.pid if self._process is not None else None

    def run(self, job: StepJob) -> StepOutcome:
        """Run ``job`` in a fresh fork of the template; blocks until it is done."""
        try:
            connection = self.start(StepTask(job))
        except WorkerPoolError as error:
            return StepOutcome(error=error.message)
        try:
            outcome: StepOutcome = connection.recv()
        except (EOFError, OSError):
            outcome = StepOutcome(error=DIED)
        finally:
            connection.close()
        return outcome

    def start(self, task: Any) -> Connection:
        """Fork a child of the template that runs ``task.run_in_child(connection)``; the
        returned connection is the other end. ``WorkerPoolError`` when the pool cannot fork."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        with theirs:
            try:
                with self._lock:
                    if self._process is None:
                        raise WorkerPoolError("the worker pool is closed")
                    socket.send_fds(self._control, [b"s"], [theirs.fileno()])
            except OSError:
                ours.close()
                raise WorkerPoolError(TEMPLATE_DIED) from None
            except WorkerPoolError:
                ours.close()
                raise
        connection = Connection(ours.detach())
        try:
            connection.send(task)
        except OSError:
            connection.close()
            raise WorkerPoolError(TEMPLATE_DIED) from None
        return connection

    def close(self) -> None:
        """End the template (SIGTERM: it kills the steps still running); waits for it."""
        with self._lock:
            process, self._process = self._process, None
            self._control.close()
        closed_already(self)
        if process is None:
            return
        with contextlib.suppress(OSError):
            process.terminate()
        try:
            process.wait(timeout=self.shutdown_timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass(frozen=True)
class StepTask:
    """Run one step in a child of the template and send its ``StepOutcome`` back."""

    job: StepJob

    def run_in_child(self, connection: Connection) -> None:
        from jupyter_mlops.execute.engines.inprocess import execute_step_function

        try:
            outcome = execute_step_function(self.job)
        except BaseException as error:  # the runtime itself failed: report, never hang
            outcome = StepOutcome(error=f"{type(error).__name__}: {error}")
        connection.send(outcome)
        connection.close()
