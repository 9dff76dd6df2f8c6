"""What a rollout did, as it happens (``RolloutEvent``, for live progress) and at its end
(``RolloutResult``, the ``deploy --json`` contract)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jupyter_mlops.deploy.rollout.analysis import Check, WindowAnalysis
from jupyter_mlops.deploy.rollout.strategies import Phase

PROMOTED = "promoted"
ROLLED_BACK = "rolled_back"


@dataclass(frozen=True)
class RolloutEvent:
    """One step of a rollout: ``kind`` (start, staged, smoke, load, phase, window,
    promoted, rolled_back), a line for people, and the data behind it."""

    kind: str
    message: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PhaseWindow:
    """One analysed window of phase ``index`` (1-based; 0 is the load check)."""

    index: int
    phase: Phase
    analysis: WindowAnalysis
    versions: tuple[dict[str, Any], ...] = ()  # per version: requests, errors, latency, predictions
    feedback: dict[str, Any] | None = None  # A/B: the versions' scores on feedback labels

    def version_lines(self) -> list[str]:
        """One line per version: requests, errors, latency and predictions in the window."""
        lines = []
        for summary in self.versions:
            p99 = summary.get("p99_ms")
            latency = f"p99 {p99:.3g} ms" if p99 is not None else "no latency"
            predictions = ", ".join(f"{k} ×{n}" for k, n in summary["predictions"].items())
            lines.append(
                f"  version {summary['version']}: {summary['requests']} requests, "
                f"{summary['errors']} errors, {latency}; predictions: {predictions or '-'}"
            )
        return lines

    def to_json(self) -> dict[str, Any]:
        """The window as JSON."""
        return {
            "index": self.index,
            "phase": self.phase.to_json(),
            **self.analysis.to_json(),
            "versions": list(self.versions),
            "feedback": self.feedback,
        }


@dataclass
class RolloutResult:
    """A finished rollout: ``outcome`` promoted (alias on the candidate, 100 %) or
    rolled_back (alias unchanged, candidate at 0 %; ``failed`` names the checks)."""

    rollout: str
    model: str
    target: str
    alias: str
    url: str
    strategy: str
    stable: str | None
    candidate: str
    outcome: str = ""
    reason: str = ""
    smoke: Check | None = None
    load: WindowAnalysis | None = None
    windows: list[PhaseWindow] = field(default_factory=list)
    failed: list[Check] = field(default_factory=list)
    mlflow_run: str | None = None
    checks: list[Check] = field(default_factory=list)  # a non-rest kind's verification

    @property
    def promoted(self) -> bool:
        """Whether the alias moved to the candidate."""
        return self.outcome == PROMOTED

    def describe(self) -> str:
        """The outcome in one line."""
        if self.promoted:
            before = self.stable if self.stable is not None else "(unset)"
            return (
                f"{self.model}: {self.alias} {before} → {self.candidate} "
                f"({self.strategy}, rollout {self.rollout})"
            )
        return (
            f"{self.model}: version {self.candidate} rolled back, {self.alias} stays on "
            f"{self.stable if self.stable is not None else '(unset)'}: {self.reason}"
        )

    def to_json(self) -> dict[str, Any]:
        """The ``deploy --json`` object."""
        return {
            "rollout": self.rollout,
            "model": self.model,
            "target": self.target,
            "alias": self.alias,
            "url": self.url,
            "strategy": self.strategy,
            "stable": self.stable,
            "candidate": self.candidate,
            "outcome": self.outcome,
            "reason": self.reason,
            "smoke": self.smoke.to_json() if self.smoke else None,
            "load": self.load.to_json() if self.load else None,
            "windows": [window.to_json() for window in self.windows],
            "failed": [check.to_json() for check in self.failed],
            "mlflow_run": self.mlflow_run,
            "checks": [check.to_json() for check in self.checks],
        }
