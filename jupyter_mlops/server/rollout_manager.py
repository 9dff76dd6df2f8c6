"""Rollouts started through the REST API: each runs in a background thread of the Jupyter
server, its progress lines and outcome kept for ``GET deployments/rollouts/<id>``.

One rollout per (pipeline folder, deploy target) at a time. A rollout asked to stop
(``DELETE deployments/rollouts/<id>``, or the server stopping) raises a ``DeployError`` at
its next progress step, so it rolls back (the alias never moved, the traffic split is
cleared). Finished rollouts are remembered for a while. Every method is thread-safe.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from jupyter_mlops.errors import (
    DeployError,
    MlopsError,
    RolloutBusy,
    RolloutNotFound,
    RunConflict,
)

if TYPE_CHECKING:
    from jupyter_mlops.deploy.rollout.result import RolloutEvent, RolloutResult

log = logging.getLogger(__name__)

Progress = Callable[["RolloutEvent"], None]
Deploy = Callable[[Progress], "RolloutResult"]

PROGRESS_LINES = 500
KEEP_SECONDS = 3600.0
KEEP_FINISHED = 50
STOP_WAIT = 15.0
FINISHED = ("promoted", "rolled_back", "failed")
STOPPED_BY_USER = "stopped from the panel"
STOPPED_BY_SHUTDOWN = "stopped: the Jupyter server is shutting down"


@dataclass
class ManagedRollout:
    """A rollout started by :class:`RolloutManager`; read it through :meth:`snapshot`."""

    id: str
    path: str  # the pipeline as the caller named it
    folder: str  # the resolved pipeline folder (identifies "the same pipeline")
    target: str
    version: str | None
    started_at: float = field(default_factory=time.time)
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None
    status: str = "running"  # running | promoted | rolled_back | failed
    progress: deque[dict[str, str]] = field(default_factory=lambda: deque(maxlen=PROGRESS_LINES))
    result: dict[str, Any] | None = None
    error: str | None = None
    stop_reason: str | None = None  # set when asked to stop
    stop_raised: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    def snapshot(self) -> dict[str, Any]:
        """The rollout as the REST API returns it."""
        with self.lock:
            now = time.monotonic()
            return {
                "id": self.id,
                "path": self.path,
                "target": self.target,
                "version": self.version,
                "status": self.status,
                "stopping": self.stop_reason is not None and self.status == "running",
                "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.started_at)),
                "elapsed": round((self.ended if self.ended is not None else now) - self.started, 3),
                "progress": list(self.progress),
                "result": self.result,
                "error": self.error,
            }

    def on_event(self, event: RolloutEvent) -> None:
        """Keep a progress step; once a stop was requested, the next step raises (once)."""
        with self.lock:
            self.progress.append({"kind": event.kind, "message": event.message})
            reason = self.stop_reason if not self.stop_raised else None
            self.stop_raised = self.stop_raised or reason is not None
        if reason is not None:
            raise DeployError(reason)

    def on_end(self, result: RolloutResult | None, error: str | None) -> None:
        """Record the outcome (a result) or why the rollout could not run (an error)."""
        with self.lock:
            self.ended = time.monotonic()
            self.result = result.to_json() if result is not None else None
            self.status = result.outcome if result is not None else "failed"
            self.error = error if result is None else (None if result.promoted else result.reason)


class RolloutManager:
    """Starts rollouts in threads and remembers them."""

    def __init__(
        self, *, keep_seconds: float = KEEP_SECONDS, keep_finished: int = KEEP_FINISHED
    ) -> None:
        self.keep_seconds = keep_seconds
        self.keep_finished = keep_finished
        self._rollouts: dict[str, ManagedRollout] = {}
        self._lock = threading.Lock()

    def start(
        self, deploy: Deploy, *, path: str, folder: str, target: str, version: str | None
    ) -> ManagedRollout:
        """Run ``deploy`` (given the progress callback) in a thread; ``RolloutBusy`` when a
        rollout of the same folder and target is still going."""
        with self._lock:
            self._forget_old()
            for other in self._rollouts.values():
                if (other.folder, other.target) == (folder, target) and not other.finished:
                    raise RolloutBusy(
                        f"a rollout to target '{target}' is already going on (rollout "
                        f"{other.id}): wait for it to end",
                        name=other.id,
                    )
            rollout = ManagedRollout(secrets.token_hex(8), path, folder, target, version)
            self._rollouts[rollout.id] = rollout
        threading.Thread(
            target=self._run,
            args=(rollout, deploy),
            name=f"mlops-rollout-{rollout.id}",
            daemon=True,
        ).start()
        return rollout

    def get(self, rollout_id: str) -> ManagedRollout:
        """Rollout ``rollout_id``; ``RolloutNotFound`` when unknown or forgotten."""
        with self._lock:
            self._forget_old()
            rollout = self._rollouts.get(rollout_id)
        if rollout is None:
            hours = self.keep_seconds / 3600
            raise RolloutNotFound(
                f"no rollout '{rollout_id}' (finished rollouts are kept for {hours:g} h)",
                name=rollout_id,
            )
        return rollout

    def active(self, folder: str, target: str) -> ManagedRollout | None:
        """The rollout of ``folder``'s ``target`` still going, if any."""
        with self._lock:
            for rollout in self._rollouts.values():
                if (rollout.folder, rollout.target) == (folder, target) and not rollout.finished:
                    return rollout
        return None

    def wait(self, rollout_id: str, timeout: float | None = None) -> ManagedRollout:
        """Block until the rollout has finished (or ``timeout`` passed); returns it."""
        rollout = self.get(rollout_id)
        deadline = None if timeout is None else time.monotonic() + timeout
        while not rollout.finished and (deadline is None or time.monotonic() < deadline):
            time.sleep(0.05)
        return rollout

    def stop(self, rollout_id: str, reason: str = STOPPED_BY_USER) -> ManagedRollout:
        """Ask rollout ``rollout_id`` to stop: it rolls back at its next step.
        ``RunConflict`` when it already ended."""
        rollout = self.get(rollout_id)
        with rollout.lock:
            if rollout.finished:
                raise RunConflict(
                    f"rollout '{rollout_id}' already ended ({rollout.status})", name=rollout_id
                )
            rollout.stop_reason = rollout.stop_reason or reason
        return rollout

    def shutdown(self, wait: float = STOP_WAIT) -> None:
        """Ask every rollout going on to stop (it rolls back at its next step) and wait up
        to ``wait`` seconds for them."""
        with self._lock:
            going = [r for r in self._rollouts.values() if not r.finished]
        for rollout in going:
            with rollout.lock:
                rollout.stop_reason = rollout.stop_reason or STOPPED_BY_SHUTDOWN
        deadline = time.monotonic() + wait
        for rollout in going:
            self.wait(rollout.id, timeout=max(0.0, deadline - time.monotonic()))

    def _run(self, rollout: ManagedRollout, deploy: Deploy) -> None:
        try:
            rollout.on_end(deploy(rollout.on_event), None)
        except MlopsError as error:
            rollout.on_end(None, str(error))
        except Exception as error:
            log.exception("rollout %s to target %s failed", rollout.id, rollout.target)
            rollout.on_end(None, f"internal error in the rollout: {error!r}")

    def _forget_old(self) -> None:
        """Drop finished rollouts older than ``keep_seconds`` or beyond ``keep_finished``.
        Hold the lock."""
        now = time.monotonic()
        finished = [r for r in self._rollouts.values() if r.finished]
        expired = {r.id for r in finished if now - (r.ended or now) > self.keep_seconds}
        expired |= {r.id for r in finished[: max(0, len(finished) - self.keep_finished)]}
        for rollout_id in expired:
            del self._rollouts[rollout_id]
