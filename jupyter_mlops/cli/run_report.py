"""Print the end of a run: the JSON summary, or the readable outcome (``execute.report``)."""

from __future__ import annotations

import json
import sys

from jupyter_mlops.execute.report import run_report
from jupyter_mlops.execute.run_result import RunResult


def print_run_report(result: RunResult, as_json: bool = False) -> None:
    """JSON summary on stdout with ``as_json``; the human summary goes to stderr either way."""
    report = run_report(result)
    for line in report.details:
        print(line, file=sys.stderr)
    stream = sys.stderr if as_json else sys.stdout
    for line in report.summary:
        print(line, file=stream)
    if as_json:
        print(json.dumps(result.to_json(), indent=2))
