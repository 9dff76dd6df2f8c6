"""The outcome of one monitoring run: per window drift, prediction drift and performance,
what fired on the latest window. ``MonitorResult.to_json()`` is the ``monitor --json``
contract (the HTML report, the panel and the triggers read it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

DRIFT = "drift"
DECAY = "decay"
SIGNALS = (DRIFT, DECAY)


@dataclass
class WindowResult:
    """One window's numbers (``drift``, ``prediction_drift`` and ``performance`` as JSON)."""

    start: datetime | None
    end: datetime | None
    rows: int
    versions: dict[str, int]
    drift: dict[str, Any]
    prediction_drift: dict[str, Any]
    performance: dict[str, Any] | None
    mlflow_run_id: str | None = None
    decayed: list[str] = field(default_factory=list)

    @property
    def drifted(self) -> bool:
        """Whether the dataset drifted in this window."""
        return bool(self.drift.get("drifted"))

    def to_json(self) -> dict[str, Any]:
        """The window as the contract's JSON."""
        return {
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "rows": self.rows,
            "versions": self.versions,
            "drift": self.drift,
            "prediction_drift": self.prediction_drift,
            "performance": self.performance,
            "decayed": self.decayed,
            "mlflow_run_id": self.mlflow_run_id,
        }


@dataclass
class MonitorResult:
    """A monitoring run: the model and selector, the reference, the source and windows."""

    model: str
    selector: str
    reference: dict[str, Any]
    source: dict[str, Any]
    windows: list[WindowResult]
    histograms: dict[str, Any]
    fail_on: list[str]
    experiment: str
    report: str | None = None

    @property
    def versions(self) -> list[str]:
        """Every version seen in the current data (the reference's when none is logged)."""
        seen = {v for window in self.windows for v in window.versions}
        return sorted(seen or {self.reference["version"]}, key=_version_order)

    @property
    def fired(self) -> list[str]:
        """Which of drift/decay fired on the latest window."""
        if not self.windows:
            return []
        latest = self.windows[-1]
        return [s for s, on in ((DRIFT, latest.drifted), (DECAY, bool(latest.decayed))) if on]

    @property
    def failed(self) -> bool:
        """Whether something ``fail_on`` names fired on the latest window."""
        return bool(set(self.fired) & set(self.fail_on))

    def to_json(self) -> dict[str, Any]:
        """The ``monitor --json`` document."""
        return {
            "model": self.model,
            "selector": self.selector,
            "versions": self.versions,
            "reference": self.reference,
            "source": self.source,
            "windows": [window.to_json() for window in self.windows],
            "histograms": self.histograms,
            "fired": self.fired,
            "fail_on": self.fail_on,
            "experiment": self.experiment,
            "report": self.report,
        }


def _version_order(version: str) -> tuple[int, str]:
    return (int(version), "") if version.isdigit() else (1 << 62, version)
