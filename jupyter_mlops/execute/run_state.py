"""A run's state in its pipeline folder: what it still owes MLflow, kept apart from the cache.

Each run writes ``<pipeline>/.mlops/runs/<run>.json`` (beside its work folder
``.mlops/runs/<run>/``), atomically, when it starts and whenever its record changes::

    {"run": "20260102-030405-4242", "pid": 4242, "host": "box", "started": "…",
     "command": "jupyter-mlops run …", "status": "running" | "ended",
     "tracking_uri": "sqlite:///…" | null,
     "parent_run_id": "<MLflow parent run>" | null, "parent_closed": false,
     "owed": [{"step": "train", "cache_key": "…", "action": "record" | "register",
               "model_name": "…" | null, "outputs": {"model": "<sha256>"}}]}

``owed`` lists the step records and model registrations the run has not done yet (written
once the steps ended, emptied as the after-run links do them). A run that ends with its
parent run closed and nothing owed deletes its file; otherwise the file stays, and the next
run of the folder — which holds the run lock (``run_lock.py``), so no other run of it is
alive — closes a parent run left open (KILLED when the process died while ``running``,
FAILED when it ended but could not close it; ``tracking/abandoned.py``) and takes the owed
items over. An owed item is done by a run holding the same step result (same cache key);
until then it stays owed, and each run says so in a warning. ``outputs`` names the artifacts
an owed item needs, so nothing may prune them.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from jupyter_mlops.artifacts.store import write_json_atomic
from jupyter_mlops.execute.pids import pid_exists
from jupyter_mlops.execute.run_lock import holder_info

RUNNING = "running"
ENDED = "ended"
RECORD = "record"
REGISTER = "register"


@dataclass(frozen=True)
class OwedItem:
    """A step record or a model registration a run has not done yet."""

    step: str
    cache_key: str
    action: str  # RECORD | REGISTER
    model_name: str | None = None
    outputs: dict[str, str] = field(default_factory=dict)  # output variable -> artifact hash

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OwedItem:
        return cls(
            str(data["step"]),
            str(data["cache_key"]),
            str(data["action"]),
            data.get("model_name"),
            {str(k): str(v) for k, v in (data.get("outputs") or {}).items()},
        )


@dataclass
class RunState:
    """The state file of one run (see the module docstring)."""

    path: Path
    run: str
    pid: int
    host: str
    started: str
    command: str
    status: str = RUNNING
    tracking_uri: str | None = None
    parent_run_id: str | None = None
    parent_closed: bool = False
    owed: list[OwedItem] = field(default_factory=list)

    @classmethod
    def begin(cls, runs_dir: Path, run: str) -> RunState:
        """The state of a run starting now in this process, written at once."""
        holder = holder_info()
        state = cls(
            runs_dir / f"{run}.json",
            run,
            int(str(holder["pid"])),
            str(holder["host"]),
            str(holder["started"]),
            str(holder["command"]),
        )
        state.save()
        return state

    @classmethod
    def read(cls, path: Path) -> RunState | None:
        """The state in ``path``; None when it is unreadable (a half-written file cannot
        exist: every write is atomic)."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            owed = [OwedItem.from_dict(item) for item in data.get("owed") or []]
            fields = {k: data[k] for k in ("run", "pid", "host", "started", "command")}
            return cls(
                path,
                **fields,
                status=str(data.get("status", RUNNING)),
                tracking_uri=data.get("tracking_uri"),
                parent_run_id=data.get("parent_run_id"),
                parent_closed=bool(data.get("parent_closed")),
                owed=owed,
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def to_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in asdict(self).items() if k not in ("path", "owed")}
        data["owed"] = [asdict(item) for item in self.owed]
        return data

    def save(self) -> None:
        """Write the state atomically."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(self.path, self.to_dict())

    def remove(self) -> None:
        """Delete the state file: nothing is owed and the record is closed."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)

    def parent_started(self, tracking_uri: str, run_id: str) -> None:
        """Remember the MLflow parent run as soon as it exists."""
        self.tracking_uri, self.parent_run_id, self.parent_closed = tracking_uri, run_id, False
        self.save()

    def others(self) -> list[RunState]:
        """The state files of earlier runs of this folder, oldest first."""
        found = []
        for path in sorted(self.path.parent.glob("*.json")):
            if path != self.path:
                state = RunState.read(path)
                if state is not None:
                    found.append(state)
        return found

    def process_alive(self) -> bool:
        """Whether the run's process still lives (on this host, and is not this process).
        The run lock already proves no other run of the folder is alive; this guards against
        a run of a tool version without the lock."""
        if self.host != socket.gethostname() or self.pid == os.getpid():
            return False
        return pid_exists(self.pid)

    def abandoned_reason(self) -> tuple[str, str]:
        """(MLflow status, reason) to close this earlier run's parent run with."""
        if self.status == RUNNING:
            return "KILLED", (
                f"the run's process (pid {self.pid} on {self.host}, started {self.started}) "
                "ended before its record was complete"
            )
        return "FAILED", "the run ended but could not close its record"
