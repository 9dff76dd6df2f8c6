"""Step and run statuses: one ``str``-valued enum each, so a status is never a bare literal."""

from __future__ import annotations

from enum import StrEnum


class StepStatus(StrEnum):
    """What happened to one step in a run (the ``steps.<name>.status`` of ``run --json``)."""

    WAITING = "waiting"  # progress only: not started yet
    RUNNING = "running"  # progress only
    RAN = "ran"
    CACHED = "cached"
    FAILED = "failed"
    NOT_RUN = "not_run"

    @property
    def done(self) -> bool:
        """The step's outputs are available (it ran or came from the cache)."""
        return self in (StepStatus.RAN, StepStatus.CACHED)


class RunStatus(StrEnum):
    """The outcome of a whole run (``status`` of ``run --json``)."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
