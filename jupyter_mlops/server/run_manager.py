"""Background pipeline runs for a long-lived process (the Jupyter server): start, watch, cancel.

Each run is ``jupyter-mlops run TARGET --json --progress-events`` in a subprocess with its own
process group. Its stderr is read line by line: step events (``cli.progress.ProgressEvents``)
update the per-step state, other lines go to a bounded log tail; stdout is the ``run --json``
summary. Cancelling sends SIGTERM to the process group and to every descendant (kernels start
in sessions of their own), then SIGKILL to whatever is left after a grace period. Finished runs
are remembered for a while. Every method is thread-safe. A run's id is also its live record's
(``JUPYTER_MLOPS_RUN_ID``, source ``panel``: ``execute/live_record.py``).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyter_mlops.errors import RunConflict, RunNotFound
from jupyter_mlops.execute.status import StepStatus
from jupyter_mlops.server.process_tree import stop_process_tree

LOG_LINES = 200
KEEP_SECONDS = 3600.0
KEEP_FINISHED = 50
CANCEL_GRACE = 5.0


@dataclass
class StepState:
    """One step's state as the run reported it; ``started`` is monotonic time when running."""

    name: str
    state: str = StepStatus.WAITING
    seconds: float = 0.0
    started: float | None = None

    def to_json(self, now: float) -> dict[str, Any]:
        seconds = self.seconds
        if self.state == StepStatus.RUNNING and self.started is not None:
            seconds = now - self.started
        return {"name": self.name, "state": self.state, "seconds": round(seconds, 3)}


@dataclass
class ManagedRun:
    """A run started by :class:`RunManager`; read it through :meth:`snapshot`."""

    id: str
    target: str  # as the caller named it (e.g. relative to the server root)
    folder: str  # the pipeline folder the run executes (identifies "the same pipeline")
    pipeline: str
    process: subprocess.Popen[str]
    steps: dict[str, StepState]
    params: dict[str, Any] = field(default_factory=dict)  # every parameter's value in the run
    started_at: float = field(default_factory=time.time)
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None
    status: str = "running"  # running | cancelling | succeeded | failed | cancelled
    summary: dict[str, Any] | None = None
    error: str | None = None
    exit_code: int | None = None
    log: deque[str] = field(default_factory=lambda: deque(maxlen=LOG_LINES))
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def finished(self) -> bool:
        return self.status in ("succeeded", "failed", "cancelled")

    def snapshot(self, log_lines: int = LOG_LINES) -> dict[str, Any]:
        """The run as the REST API returns it (``GET run/<id>``)."""
        with self.lock:
            now = time.monotonic()
            elapsed = (self.ended if self.ended is not None else now) - self.started
            return {
                "id": self.id,
                "path": self.target,
                "pipeline": self.pipeline,
                "params": dict(self.params),
                "source": "panel",
                "status": self.status,
                "recording": self.status == "running" and self._steps_done(),
                "started": _iso(self.started_at),
                "ended": None if self.ended is None else _iso(self.started_at + elapsed),
                "elapsed": round(elapsed, 3),
                "steps": [step.to_json(now) for step in self.steps.values()],
                "log": list(self.log)[-log_lines:] if log_lines > 0 else [],
                "mlflow_run_id": (self.summary or {}).get("run_id"),
                "summary": self.summary,
                "error": self.error,
            }

    def _steps_done(self) -> bool:
        """Every step has ended: the run is recording in MLflow. Hold the lock."""
        ended = (StepStatus.RAN, StepStatus.CACHED, StepStatus.FAILED, StepStatus.NOT_RUN)
        return bool(self.steps) and all(s.state in ended for s in self.steps.values())

    def on_stderr_line(self, line: str) -> None:
        """A step event updates its step; any other line joins the log tail."""
        event = _parse_event(line)
        with self.lock:
            if event is None:
                self.log.append(line)
                return
            step = self.steps.setdefault(event["step"], StepState(event["step"]))
            step.state = event["state"]
            step.seconds = float(event.get("seconds") or 0.0)
            step.started = time.monotonic() if step.state == StepStatus.RUNNING else None
            if step.state != StepStatus.WAITING:
                suffix = (
                    f" ({step.seconds:.2f} s)"
                    if step.state in (StepStatus.RAN, StepStatus.FAILED)
                    else ""
                )
                self.log.append(f"[{step.name}] {step.state}{suffix}")

    def on_exit(self, exit_code: int, stdout: str) -> None:
        """Record the end of the process: its summary, status and error."""
        summary = _parse_summary(stdout)
        with self.lock:
            self.exit_code = exit_code
            self.ended = time.monotonic()
            self.summary = summary
            cancelled = self.status == "cancelling"
            if cancelled:
                self.status = "cancelled"
                self.error = "cancelled"
            elif summary is not None:
                self.status = "succeeded" if summary.get("status") == "succeeded" else "failed"
                self.error = summary.get("error")
            else:
                self.status = "failed"
                self.error = _first_error(self.log) or f"the run exited with code {exit_code}"
            self._settle_steps(summary, StepStatus.NOT_RUN if cancelled else StepStatus.FAILED)

    def _settle_steps(self, summary: dict[str, Any] | None, interrupted: str) -> None:
        """No step stays waiting or running once the process ended: the summary's status
        where it has one, else ``interrupted`` for a running step (its time frozen) and
        not_run for a waiting one. Hold the lock."""
        reported = (summary or {}).get("steps") or {}
        now = time.monotonic()
        for step in self.steps.values():
            if step.state not in (StepStatus.WAITING, StepStatus.RUNNING):
                continue
            final = (reported.get(step.name) or {}).get("status")
            if step.state == StepStatus.RUNNING and step.started is not None:
                step.seconds = now - step.started
            if final not in (None, StepStatus.WAITING, StepStatus.RUNNING):
                step.state = final
            elif step.state == StepStatus.RUNNING:
                step.state = interrupted
            else:
                step.state = StepStatus.NOT_RUN
            step.started = None


class RunManager:
    """Starts, tracks and cancels pipeline runs (subprocesses); remembers finished ones."""

    def __init__(
        self,
        *,
        keep_seconds: float = KEEP_SECONDS,
        keep_finished: int = KEEP_FINISHED,
        cancel_grace: float = CANCEL_GRACE,
        python: str | None = None,
    ) -> None:
        self.keep_seconds = keep_seconds
        self.keep_finished = keep_finished
        self.cancel_grace = cancel_grace
        self.python = python or sys.executable
        self._runs: dict[str, ManagedRun] = {}
        self._lock = threading.Lock()

    def command(
        self,
        target: Path,
        params: Mapping[str, Any] | None = None,
        engine: str | None = None,
        force: bool = False,
    ) -> list[str]:
        """The ``jupyter-mlops run`` command line (values become Python literals for ``-p``)."""
        argv = [self.python, "-m", "jupyter_mlops.cli", "run", str(target), "--json"]
        argv.append("--progress-events")
        for name, value in (params or {}).items():
            argv += ["-p", f"{name}={value!r}"]
        if engine:
            argv += ["--engine", engine]
        if force:
            argv.append("--force")
        return argv

    def start(
        self,
        target: Path,
        *,
        folder: Path,
        pipeline: str,
        steps: list[str],
        label: str | None = None,
        params: Mapping[str, Any] | None = None,
        values: Mapping[str, Any] | None = None,
        engine: str | None = None,
        force: bool = False,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
    ) -> ManagedRun:
        """Start running ``target`` (a notebook or pipeline folder executing in ``folder``).

        ``params`` are the overrides passed with ``-p``; ``values`` every parameter's value in
        the run (defaults included) as ``snapshot`` reports it, ``params`` when not given.
        RunConflict when a run of the same folder is still going.
        """
        with self._lock:
            self._forget_old()
            for other in self._runs.values():
                if other.folder == str(folder.resolve()) and not other.finished:
                    raise RunConflict(
                        f"pipeline '{other.pipeline}' is already running (run {other.id})",
                        name=other.id,
                    )
            run_id = secrets.token_hex(8)  # also the run's live record (execute/live_record.py)
            live = {"JUPYTER_MLOPS_RUN_ID": run_id, "JUPYTER_MLOPS_RUN_SOURCE": "panel"}
            process = subprocess.Popen(
                self.command(target, params, engine, force),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                encoding="utf-8",
                errors="replace",
                cwd=str(cwd) if cwd is not None else None,
                env={**os.environ, **(env or {}), **live, "PYTHONUNBUFFERED": "1"},
                start_new_session=True,  # its own process group, away from the server's signals
            )
            run = ManagedRun(
                id=run_id,
                target=label or str(target),
                folder=str(folder.resolve()),
                pipeline=pipeline,
                process=process,
                steps={name: StepState(name) for name in steps},
                params=dict(values if values is not None else params or {}),
            )
            self._runs[run.id] = run
        threading.Thread(
            target=self._watch, args=(run,), name=f"mlops-run-{run.id}", daemon=True
        ).start()
        return run

    def get(self, run_id: str) -> ManagedRun:
        """The run ``run_id``; RunNotFound when unknown or forgotten."""
        with self._lock:
            self._forget_old()
            run = self._runs.get(run_id)
        if run is None:
            hours = self.keep_seconds / 3600
            raise RunNotFound(
                f"no run '{run_id}' (finished runs are kept for {hours:g} h)", name=run_id
            )
        return run

    def runs(self) -> list[ManagedRun]:
        """Every run still remembered, oldest first."""
        with self._lock:
            self._forget_old()
            return list(self._runs.values())

    def cancel(self, run_id: str) -> ManagedRun:
        """Stop run ``run_id`` and all its processes; RunConflict when it already ended."""
        run = self.get(run_id)
        with run.lock:
            if run.finished:
                raise RunConflict(f"run '{run_id}' already {run.status}", name=run_id)
            first_request = run.status != "cancelling"
            run.status = "cancelling"
        if first_request:
            threading.Thread(target=self._terminate, args=(run,), daemon=True).start()
        return run

    def wait(self, run_id: str, timeout: float | None = None) -> ManagedRun:
        """Block until run ``run_id`` has finished (or ``timeout`` passed); returns it."""
        run = self.get(run_id)
        deadline = None if timeout is None else time.monotonic() + timeout
        while not run.finished and (deadline is None or time.monotonic() < deadline):
            time.sleep(0.05)
        return run

    def shutdown(self) -> None:
        """Cancel every running run and wait for its processes to go."""
        active = [run for run in self.runs() if not run.finished]
        for run in active:
            with contextlib.suppress(RunConflict):
                self.cancel(run.id)
        for run in active:
            self.wait(run.id, timeout=self.cancel_grace + 10)

    def _watch(self, run: ManagedRun) -> None:
        """Read the run's output until it exits, then record its end."""
        chunks: list[str] = []
        assert run.process.stdout is not None and run.process.stderr is not None
        reader = threading.Thread(
            target=lambda: chunks.append(run.process.stdout.read()),  # type: ignore[union-attr]
            daemon=True,
        )
        reader.start()
        for line in run.process.stderr:
            run.on_stderr_line(line.rstrip("\n"))
        exit_code = run.process.wait()
        reader.join()
        with run.lock:
            cancelled = run.status == "cancelling"
        if cancelled:  # stopped by a signal: its live record says so before the run ends
            from jupyter_mlops.api import settle_live_run

            with contextlib.suppress(OSError):
                settle_live_run(run.folder, run.id, "cancelled", "cancelled")
        run.on_exit(exit_code, "".join(chunks))

    def _terminate(self, run: ManagedRun) -> None:
        stop_process_tree(run.process.pid, self.cancel_grace)

    def _forget_old(self) -> None:
        """Drop finished runs older than ``keep_seconds`` or beyond ``keep_finished``. Hold the lock."""
        now = time.monotonic()
        finished = [r for r in self._runs.values() if r.finished]
        expired = {r.id for r in finished if now - (r.ended or now) > self.keep_seconds}
        expired |= {r.id for r in finished[: max(0, len(finished) - self.keep_finished)]}
        for run_id in expired:
            del self._runs[run_id]


def _parse_event(line: str) -> dict[str, Any] | None:
    """A ``{"step", "state", "seconds"}`` progress event, or None for any other line."""
    if not line.startswith('{"step"'):
        return None
    try:
        event = json.loads(line)
    except json.JSONDecodeError:
        return None
    if isinstance(event, dict) and isinstance(event.get("step"), str) and "state" in event:
        return event
    return None


def _parse_summary(stdout: str) -> dict[str, Any] | None:
    """The ``run --json`` summary: the JSON object that starts at the first line opening with ``{``."""
    lines = stdout.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("{"):
            try:
                summary = json.loads("\n".join(lines[index:]))
            except json.JSONDecodeError:
                return None
            return summary if isinstance(summary, dict) else None
    return None


def _first_error(log: deque[str]) -> str | None:
    """The first ``error: …`` line the CLI printed (in the tail), without the prefix."""
    for line in log:
        if line.startswith("error: "):
            return line[len("error: ") :]
    return None


def _iso(timestamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))
