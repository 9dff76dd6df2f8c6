"""A run's live record: ``<pipeline folder>/.mlops/live/<run id>.json``, what every front end
(the panel, the widgets, another tab) reads to show runs started anywhere.

Every run writes it atomically when it starts, on every step state change, when its steps are
done (``recording``: the after-run chain records in MLflow) and when it ends::

    {"id": "20261202-211500-4242", "pipeline": "classification", "path": "<notebook or folder>",
     "source": "panel" | "widget" | "cli" | "ci" | "trigger", "params": {...},
     "status": "running" | "succeeded" | "failed" | "cancelled", "recording": false,
     "started": "2026-12-02T21:15:00Z", "ended": "…Z" | null, "elapsed": 12.3,
     "steps": [{"name": "train", "state": "waiting|running|ran|cached|failed|not_run",
                "seconds": 1.2}],
     "summary": {the run --json summary} | null, "mlflow_run_id": "…" | null,
     "error": "one line" | null, "failed_step": "train" | null, "traceback": "…" | null,
     "pid": 4242, "host": "box", "log": []}

The run id is the engine's run stamp, or ``$JUPYTER_MLOPS_RUN_ID`` (the server's id of the
run); the source ``RunOptions.source``, else ``$JUPYTER_MLOPS_RUN_SOURCE``, else ``ci`` when
``$CI`` is true-ish, else ``cli``. A folder keeps its newest ``KEEP_RECORDS`` records (older
ended ones go when a run starts). Reading turns a record still ``running`` whose process is gone
from this host into ``failed``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jupyter_mlops.artifacts.store import DEFAULT_DIRNAME, write_json_atomic
from jupyter_mlops.errors import MlopsError, RunCancelled
from jupyter_mlops.execute.pids import pid_exists
from jupyter_mlops.execute.status import StepStatus

if TYPE_CHECKING:
    from jupyter_mlops.execute.progress import StepProgress
    from jupyter_mlops.execute.run_result import RunResult
    from jupyter_mlops.pipeline.pipeline_file import PipelineFile

LIVE_DIR = "live"
KEEP_RECORDS = 50
RUN_ID_ENV = "JUPYTER_MLOPS_RUN_ID"
RUN_SOURCE_ENV = "JUPYTER_MLOPS_RUN_SOURCE"
SOURCES = ("panel", "widget", "cli", "ci", "trigger")
RUNNING, SUCCEEDED, FAILED, CANCELLED = "running", "succeeded", "failed", "cancelled"
_RUN_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_FALSE = ("", "0", "false", "no", "off")


def live_dir(folder: str | Path) -> Path:
    """Where the live records of the pipeline in ``folder`` are."""
    return Path(folder) / DEFAULT_DIRNAME / LIVE_DIR


def env_run_id() -> str | None:
    """``$JUPYTER_MLOPS_RUN_ID`` (None when unset or empty); refused unless 1 to 64
    letters, digits, ``_`` or ``-``, since it names a file."""
    value = os.environ.get(RUN_ID_ENV) or None
    if value is not None and not _RUN_ID.fullmatch(value):
        raise MlopsError(
            f"{RUN_ID_ENV} must be 1 to 64 letters, digits, '_' or '-', not {value[:80]!r}",
            name=RUN_ID_ENV,
        )
    return value


def run_source(explicit: str | None = None) -> str:
    """Where a run was started from: ``explicit``, else ``$JUPYTER_MLOPS_RUN_SOURCE``, else
    ``ci`` when ``$CI`` is true-ish, else ``cli``; an unknown value is refused."""
    value, origin = explicit, "the run's source"
    if value is None and os.environ.get(RUN_SOURCE_ENV):
        value, origin = os.environ[RUN_SOURCE_ENV], RUN_SOURCE_ENV
    if value is None:
        return "ci" if os.environ.get("CI", "").strip().lower() not in _FALSE else "cli"
    if value not in SOURCES:
        raise MlopsError(
            f"{origin} must be one of {', '.join(SOURCES)}, not {value[:80]!r}", name=origin
        )
    return value


def _iso(timestamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))


class LiveRecord:
    """The live record of a run going on in this process; every method is thread-safe."""

    def __init__(self, path: Path, data: dict[str, Any]) -> None:
        self.path = path
        self.data = data
        self._started = time.time()
        self._lock = threading.Lock()

    @classmethod
    def of_run(
        cls,
        pipeline_file: PipelineFile,
        run_id: str,
        source: str,
        params: dict[str, Any],
        considered: set[str],
    ) -> LiveRecord:
        """The record of a run of ``pipeline_file`` starting now, written at once (the
        ``considered`` steps waiting, the others not run); older records are pruned."""
        folder, pipeline = pipeline_file.folder, pipeline_file.pipeline
        notebook = Path(pipeline.notebook)
        record = cls(live_dir(folder) / f"{run_id}.json", {})
        record.data = {
            "id": run_id, "pipeline": pipeline.name, "source": source,
            "path": str((notebook if notebook.is_file() else folder).resolve()),
            "params": dict(params), "status": RUNNING, "recording": False,
            "started": _iso(record._started), "ended": None, "elapsed": 0.0,
            "steps": [
                {"name": s.name, "seconds": 0.0,
                 "state": StepStatus.WAITING if s.name in considered else StepStatus.NOT_RUN}
                for s in pipeline.steps
            ],
            "summary": None, "mlflow_run_id": None, "error": None, "failed_step": None,
            "traceback": None, "pid": os.getpid(), "host": socket.gethostname(), "log": [],
        }  # fmt: skip
        record.path.parent.mkdir(parents=True, exist_ok=True)
        record._write()
        prune_records(record.path.parent, KEEP_RECORDS)
        return record

    def follow(self, run: Callable[[], RunResult]) -> RunResult:
        """Call ``run`` (the run's work) and record how it ended, exception or result."""
        try:
            result = run()
        except BaseException as error:
            with contextlib.suppress(OSError):  # the run's own error is the one to report
                self.interrupted(error)
            raise
        self.finish(result)
        return result

    def step(self, name: str, state: str, seconds: float = 0.0) -> None:
        """Step ``name`` is now ``state`` (a running step remembers since when: ``since``)."""
        with self._lock:
            for step in self.data["steps"]:
                if step["name"] == name:
                    step["state"], step["seconds"] = str(state), round(seconds, 3)
                    step.pop("since", None)
                    if state == StepStatus.RUNNING:
                        step["since"] = time.time()
            self._write()

    def recording(self) -> None:
        """Every step has ended: the after-run chain records the run."""
        with self._lock:
            self.data["recording"] = True
            self._write()

    def finish(self, result: RunResult) -> None:
        """The run ended with ``result``: status, summary, the first failed step."""
        failed = next((s for s in result.steps.values() if s.status == StepStatus.FAILED), None)
        error = result.error or "; ".join(f"{k}: {v}" for k, v in result.failed_links.items())
        with self._lock:
            self.data.update(
                summary=result.to_json(),
                mlflow_run_id=result.run_id,
                failed_step=failed.name if failed else None,
                traceback=(failed.traceback or failed.error) if failed else None,
            )
            self._end(str(result.status), error or None)

    def interrupted(self, error: BaseException) -> None:
        """An exception ended the run: Ctrl-C or Cancel → cancelled, anything else → failed."""
        cancelled = isinstance(error, KeyboardInterrupt | RunCancelled)
        text = "cancelled" if cancelled else _one_line(error)
        with self._lock:
            self._end(CANCELLED if cancelled else FAILED, text)

    def _end(self, status: str, error: str | None) -> None:
        """Hold the lock."""
        self.data.update(status=status, error=error, recording=False, ended=_iso(time.time()))
        _settle_steps(self.data, StepStatus.NOT_RUN if status == CANCELLED else StepStatus.FAILED)
        self._write()

    def _write(self) -> None:
        self.data["elapsed"] = round(time.time() - self._started, 3)
        write_json_atomic(self.path, self.data)


class LiveProgress:
    """A ``StepProgress`` that updates the live record, then tells ``inner`` (the front end's
    progress, which may raise ``RunCancelled``)."""

    def __init__(self, record: LiveRecord, inner: StepProgress | None) -> None:
        self.record, self.inner = record, inner

    def running(self, step: str) -> None:
        if self.inner is not None:
            self.inner.running(step)  # a cancelled run refuses the step: it does not start
        self.record.step(step, StepStatus.RUNNING)

    def finished(self, step: str, status: str, seconds: float = 0.0) -> None:
        self.record.step(step, status, seconds)
        if self.inner is not None:
            self.inner.finished(step, status, seconds)


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    if isinstance(error, MlopsError):
        return text[0] if text else type(error).__name__
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


def _settle_steps(data: dict[str, Any], interrupted: str) -> None:
    """No step stays waiting or running once the run ended."""
    for step in data["steps"]:
        step.pop("since", None)
        if step.get("state") == StepStatus.RUNNING:
            step["state"] = interrupted
        elif step.get("state") == StepStatus.WAITING:
            step["state"] = StepStatus.NOT_RUN


def read_records(folder: str | Path, limit: int = KEEP_RECORDS) -> list[dict[str, Any]]:
    """The live records of the pipeline in ``folder``, newest first (a running record whose
    process is gone from this host reported as failed); unreadable files are skipped."""
    return [_as_seen(data) for data in _records(live_dir(folder))[:limit]]


def read_record(folder: str | Path, run_id: str) -> dict[str, Any] | None:
    """The live record of run ``run_id`` in ``folder`` (None when there is none)."""
    if not _RUN_ID.fullmatch(run_id):
        return None
    data = _load(live_dir(folder) / f"{run_id}.json")
    return _as_seen(data) if data is not None else None


def end_abandoned(folder: str | Path, run_id: str, status: str, error: str) -> bool:
    """Write ``status`` and ``error`` into run ``run_id``'s record when it still says running
    but its process is gone (a run stopped by a signal); whether it did."""
    path = live_dir(folder) / f"{run_id}.json"
    data = _load(path) if _RUN_ID.fullmatch(run_id) else None
    if data is None or data.get("status") != RUNNING or _process_alive(data):
        return False
    data.update(status=status, error=error, recording=False, ended=_iso(time.time()))
    _settle_steps(data, StepStatus.NOT_RUN if status == CANCELLED else StepStatus.FAILED)
    write_json_atomic(path, data)
    return True


def prune_records(directory: Path, keep: int) -> None:
    """Delete the records beyond the newest ``keep``, except those of runs still going."""
    for data in _records(directory)[keep:]:
        if data.get("status") != RUNNING or not _process_alive(data):
            with contextlib.suppress(OSError):
                os.unlink(directory / f"{data['id']}.json")


def _records(directory: Path) -> list[dict[str, Any]]:
    """Every readable record in ``directory``, newest first."""
    found = []
    for path in directory.glob("*.json"):
        data = _load(path)
        with contextlib.suppress(OSError):  # pruned meanwhile by another run
            if data is not None:
                found.append((str(data.get("started") or ""), path.stat().st_mtime_ns, data))
    found.sort(key=lambda item: item[:2], reverse=True)
    return [data for *_, data in found]


def _load(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("id") != path.stem:
        return None
    steps = data.setdefault("steps", [])
    if not isinstance(steps, list) or not all(isinstance(step, dict) for step in steps):
        return None
    return data


def _as_seen(data: dict[str, Any]) -> dict[str, Any]:
    """The record as a reader reports it: a dead running run failed; a live one's elapsed
    time and running steps' seconds brought up to now."""
    if data.get("status") != RUNNING:
        return data
    if not _process_alive(data):
        data = {**data, "status": FAILED, "recording": False}
        data["error"] = f"the run's process (pid {data.get('pid')}) ended without finishing"
        _settle_steps(data, StepStatus.FAILED)
        return data
    now, started = time.time(), _parse_iso(data.get("started"))
    steps = [_step_now(step, now) for step in data["steps"]]
    elapsed = data.get("elapsed") if started is None else round(now - started, 3)
    return {**data, "steps": steps, "elapsed": elapsed}


def _step_now(step: dict[str, Any], now: float) -> dict[str, Any]:
    """A step as shown now: a running step's seconds so far, without ``since``."""
    shown = {k: v for k, v in step.items() if k != "since"}
    since = step.get("since")
    if step.get("state") == StepStatus.RUNNING and isinstance(since, int | float):
        shown["seconds"] = round(max(0.0, now - since), 3)
    return shown


def _parse_iso(text: object) -> float | None:
    try:
        return datetime.strptime(str(text), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
    except ValueError:
        return None


def _process_alive(data: dict[str, Any]) -> bool:
    """Whether the record's process still lives; a process on another host is assumed to."""
    pid = data.get("pid")
    if data.get("host") != socket.gethostname():
        return True
    return isinstance(pid, int) and pid_exists(pid)
