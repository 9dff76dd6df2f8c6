"""The one text rendering of a run's outcome; the CLI prints it, the widgets show it.

:func:`run_report` splits it into ``details`` (warnings, failures with their tracebacks and
data reports: the CLI's stderr) and ``summary`` (schemas written, the summary line, the gate
decision, notes: stdout, or stderr under ``--json``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from jupyter_mlops.errors import MlopsError
from jupyter_mlops.execute.run_result import RunResult, StepResult
from jupyter_mlops.execute.status import StepStatus

if TYPE_CHECKING:
    from jupyter_mlops.artifacts.store import ArtifactRef, ArtifactStore
    from jupyter_mlops.quality.gates.decision import GateOutcome


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
    report.summary += result_lines(result)
    report.summary.append(summary_line(result))
    for gates in result.model_gates.values():
        report.summary.append(gates_line(gates, named=len(result.model_gates) > 1))
        report.summary += [f"  - {reason}" for reason in gates.reasons]
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
    line += registered_text(result)
    return line


def registered_text(result: RunResult) -> str:
    """``; registered model version 3`` (one model), or every model the run registered:
    ``; registered models regression-ridge version 2, regression-forest version 1``."""
    if result.model_version and len(result.model_versions) <= 1:
        return f"; registered model version {result.model_version}"
    if not result.model_versions:
        return ""
    models = ", ".join(f"{name} version {v}" for name, v in result.model_versions.items())
    return f"; registered model{'s' if len(result.model_versions) > 1 else ''} {models}"


def gates_line(gates: GateOutcome, named: bool = False) -> str:
    """E.g. ``gates: model version 2 rejected against champion version 1 (2 reasons)``;
    ``named``: ``gates: model fraud version 2 …`` (when several models were gated)."""
    model = f"model {gates.model} " if named and gates.model else "model "
    subject = f"{model}version {gates.version}" if gates.version else f"the new {model.strip()}"
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


RESULT_ROWS = 5  # the first rows of a DataFrame result the summary shows
RESULT_COLUMNS = 8
SCALAR_TYPES = frozenset({"int", "float", "bool", "str", "NoneType"})
FRAME_TYPES = (".DataFrame", ".Series")  # pandas types, by the end of their qualified name


def result_lines(result: RunResult) -> list[str]:
    """Each sink step's results: a DataFrame's shape and first rows, a scalar's value, else
    its type; e.g. ``result summarize.summary: DataFrame, 3 rows × 4 columns (artifact 1a2b…)``."""
    from jupyter_mlops.artifacts.store import ArtifactStore

    store = ArtifactStore.for_pipeline(result.pipeline_dir)
    lines: list[str] = []
    for step_name, names in result.results.items():
        step = result.steps.get(step_name)
        for name in names:
            ref = step.outputs.get(name) if step is not None else None
            if ref is not None:
                lines += _result_value_lines(f"{step_name}.{name}", ref, store)
    return lines


def _result_value_lines(label: str, ref: ArtifactRef, store: ArtifactStore) -> list[str]:
    head = f"result {label}"
    artifact = f"(artifact {ref.hash[:12]})"
    is_scalar = ref.type in SCALAR_TYPES or (
        ref.type.startswith("numpy.") and ref.summary.get("shape") == []
    )
    is_frame = ref.type.startswith("pandas.") and ref.type.endswith(FRAME_TYPES)
    if not is_frame and not is_scalar:
        size = f" of length {ref.summary['len']}" if "len" in ref.summary else ""
        return [f"{head}: {ref.type}{size} {artifact}"]
    try:
        value = store.get(ref)
    except MlopsError as exc:
        return [f"{head}: {ref.type} {artifact}, which cannot be read: {exc}"]
    if is_scalar:
        text = repr(value.item() if hasattr(value, "item") else value)
        return [f"{head} = {text if len(text) <= 80 else text[:79] + '…'} {artifact}"]
    return [f"{head}: {_frame_heading(value)} {artifact}", *_frame_lines(value)]


def _frame_heading(frame: Any) -> str:
    """``DataFrame, 3 rows × 4 columns`` or ``Series, 10 rows`` (and which rows follow)."""
    rows = len(frame)
    shape = f"{rows} row{'s' if rows != 1 else ''}"
    if frame.ndim == 2:
        shape += f" × {frame.shape[1]} column{'s' if frame.shape[1] != 1 else ''}"
    first = f", the first {RESULT_ROWS}" if rows > RESULT_ROWS else ""
    return f"{type(frame).__name__}, {shape}{first}"


def _frame_lines(frame: Any) -> list[str]:
    """The first rows (and columns) as a compact table, indented under the heading."""
    text = (
        frame.head(RESULT_ROWS).to_string(
            max_cols=RESULT_COLUMNS, max_colwidth=24, show_dimensions=False
        )
        if frame.ndim == 2
        else frame.head(RESULT_ROWS).to_string()
    )
    return [f"    {line}".rstrip() for line in text.splitlines()]
