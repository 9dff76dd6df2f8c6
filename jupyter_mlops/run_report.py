"""Print the end of a run: the JSON summary, or a readable outcome with the failing traceback."""

from __future__ import annotations

import json
import sys

from .run_result import RunResult


def print_run_report(result: RunResult, as_json: bool = False) -> None:
    """JSON summary on stdout with ``as_json``; the human summary goes to stderr either way."""
    for step in result.steps.values():
        if step.status == "failed":
            print(f"error: step '{step.name}' failed: {step.error}", file=sys.stderr)
            if step.traceback:
                print(step.traceback, file=sys.stderr)
    stream = sys.stderr if as_json else sys.stdout
    print(summary_line(result), file=stream)
    if as_json:
        print(json.dumps(result.to_json(), indent=2))


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
