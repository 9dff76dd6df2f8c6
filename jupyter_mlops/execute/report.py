"""Print the end of a run: the JSON summary, or a readable outcome with the failing traceback."""

from __future__ import annotations

import json
import sys

from jupyter_mlops.execute.run_result import RunResult, StepResult


def print_run_report(result: RunResult, as_json: bool = False) -> None:
    """JSON summary on stdout with ``as_json``; the human summary goes to stderr either way."""
    for step in result.steps.values():
        for warning in step.warnings:
            print(f"warning: step '{step.name}': {warning}", file=sys.stderr)
        if step.status == "failed":
            print(f"error: step '{step.name}' failed: {step.error}", file=sys.stderr)
            if step.traceback:
                print(step.traceback, file=sys.stderr)
            for line in data_report_lines(step):
                print(line, file=sys.stderr)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    stream = sys.stderr if as_json else sys.stdout
    for path in result.schemas_written:
        print(
            f"wrote data schema {path} (and its drift statistics): review and commit", file=stream
        )
    print(summary_line(result), file=stream)
    if result.gates is not None:
        print(gates_line(result), file=stream)
        for reason in result.gates.reasons:
            print(f"  - {reason}", file=stream)
    if as_json:
        print(json.dumps(result.to_json(), indent=2))


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
        counts[step.status] = counts.get(step.status, 0) + 1
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
    line = f"gates: model version {gates.version} {gates.outcome}"
    if gates.champion:
        line += f" against champion version {gates.champion['version']}"
    else:
        line += " (no champion yet: thresholds only)"
    if gates.aliases:
        line += f"; alias {', '.join(gates.aliases)} set"
    elif gates.reasons:
        line += f" ({len(gates.reasons)} reason{'s' if len(gates.reasons) > 1 else ''}):"
    return line
