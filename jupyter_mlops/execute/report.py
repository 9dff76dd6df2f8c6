"""The one text rendering of a run's outcome; the CLI prints it, the widgets show it.

:func:`run_report` splits it into ``details`` (warnings, failures with their tracebacks and
data reports: the CLI's stderr) and ``summary`` (schemas written, the summary line, the gate
decision, notes: stdout, or stderr under ``--json``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from jupyter_mlops.execute.run_result import RunResult, StepResult
from jupyter_mlops.execute.status import StepStatus


@dataclass
class RunReport:
    """A run's outcome as lines of text."""

    summary: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    traceback: str | None = None  # the first failed step's traceback and data reports

    @property
    def headline(self) -> str:
        """The summary line (``succeeded: 3 ran, …``)."""
        return next(line for line in self.summary if line.startswith(("succeeded", "failed")))

    def other_lines(self) -> list[str]:
        """Warnings and the summary without its headline (what the panel lists under it)."""
        warnings = [line for line in self.details if line.startswith("warning: ")]
        return warnings + [line for line in self.summary if line != self.headline]


def run_report(result: RunResult) -> RunReport:
    """Every line a person reads at the end of ``result``."""
    report = RunReport()
    for step in result.steps.values():
        report.details += [f"warning: step '{step.name}': {w}" for w in step.warnings]
        if step.status == StepStatus.FAILED:
            report.details.append(f"error: step '{step.name}' failed: {step.error}")
            trace = "\n".join([step.traceback or "", *data_report_lines(step)]).strip("\n")
            if trace:
                report.details.append(trace)
                report.traceback = report.traceback or trace
    report.details += [f"warning: {warning}" for warning in result.warnings]
    report.summary += [
        f"wrote data schema {path} (and its drift statistics): review and commit"
        for path in result.schemas_written
    ]
    report.summary.append(summary_line(result))
    if result.gates is not None:
        report.summary.append(gates_line(result))
        report.summary += [f"  - {reason}" for reason in result.gates.reasons]
    report.summary += result.notes
    return report


def data_report_lines(step: StepResult) -> list[str]:
    """The failing validation / drift reports of a step, minus the line already shown as
    its error."""
    reports = [r.to_text() for r in step.validation.values()]
    reports += [r.to_text() for r in step.drift.values()]
    lines = [line for text in reports for line in text.splitlines()]
    return lines[1:] if lines and (step.error or "").startswith(lines[0]) else lines


def summary_line(result: RunResult) -> str:
    """E.g. ``succeeded: 3 ran, 2 cached in 4.1 s; MLflow run 1a2b…; model version 3``."""
    counts: dict[str, int] = {}
    for step in result.steps.values():
        counts[str(step.status)] = counts.get(str(step.status), 0) + 1
    parts = ", ".join(f"{n} {status.replace('_', ' ')}" for status, n in counts.items())
    line = f"{result.status}: {parts}"
    if result.error:
        line += f" — {result.error}"
    if result.run_id:
        line += f"; MLflow run {result.run_id}"
    if result.model_version:
        line += f"; registered model version {result.model_version}"
    return line


def gates_line(result: RunResult) -> str:
    """E.g. ``gates: model version 2 rejected against champion version 1 (2 reasons)``."""
    gates = result.gates
    assert gates is not None
    subject = f"model version {gates.version}" if gates.version else "the new model"
    line = f"gates: {subject} {gates.outcome}"
    if gates.champion:
        line += f" against champion version {gates.champion['version']}"
    elif gates.version:
        line += " (no champion yet: thresholds only)"
    else:
        line += " (thresholds only: comparing with the champion needs the registry)"
    if gates.aliases:
        line += f"; alias {', '.join(gates.aliases)} set"
    elif gates.reasons:
        line += f" ({len(gates.reasons)} reason{'s' if len(gates.reasons) > 1 else ''}):"
    return line
