"""What a run reports step state changes to; front ends implement it (terminal lines, JSON
events, the widgets' rows)."""

from __future__ import annotations

from typing import Protocol


class StepProgress(Protocol):
    """Called by the runner from its worker threads as steps start and finish."""

    def running(self, step: str) -> None: ...

    def finished(self, step: str, status: str, seconds: float = 0.0) -> None: ...
