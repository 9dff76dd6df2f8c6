"""``jupyter mlops trigger``: evaluate a pipeline's triggers; re-run, gate and deploy on a fire."""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from jupyter_mlops import api
from jupyter_mlops.cli.options import add_tracking_uri

if TYPE_CHECKING:
    from jupyter_mlops.execute.run_result import RunResult


def add_trigger_parser(commands: argparse._SubParsersAction) -> None:
    """The ``trigger`` subcommand's arguments."""
    parser = commands.add_parser(
        "trigger",
        help="evaluate a pipeline's triggers; re-run, gate and deploy when one fires",
        description="Evaluate the triggers: section of PIPELINE's pipeline.yaml (schedule, "
        "new_data, drift, decay). When one fires, the pipeline re-runs (every step) with the "
        "trigger's params, its gates decide on the new version, and a validated version is "
        "deployed through the trigger's deploy: target and the auto targets. The state is "
        "kept in PIPELINE/.mlops/triggers.json. Exit 0: nothing fired, or the re-run "
        "succeeded (a version the gates rejected included: the served version stays); 1: the "
        "re-run or its deploy failed; 2: bad configuration.",
    )
    parser.add_argument("pipeline", help="an extracted pipeline folder or its notebook")
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="say what would fire and what would happen; change nothing",
    )
    parser.add_argument(
        "--json", action="store_true", help="print a JSON summary on stdout (progress on stderr)"
    )
    parser.add_argument(
        "--fail-on-rejected",
        action="store_true",
        help="exit 1 when the gates reject the new version (default: reported, exit 0)",
    )
    parser.add_argument(
        "--engine", default="papermill", help="the re-run's engine: papermill or inprocess"
    )
    parser.add_argument("--workers", type=int, default=0, help="steps run at once (default: CPUs)")
    add_tracking_uri(parser)
    parser.set_defaults(command=trigger_command)


def trigger_command(args: argparse.Namespace) -> int:
    """``jupyter mlops trigger``."""
    options = api.TriggerOptions(
        dry_run=args.dry_run,
        tracking_uri=args.tracking_uri,
        engine=args.engine,
        workers=args.workers,
        progress_for=_progress,
    )
    result = api.trigger(args.pipeline, options)
    out = sys.stderr if args.json else sys.stdout
    for line in evaluation_lines(result):
        print(line, file=out)
    if result.run is not None:
        _print_run(result.run, args.json)
    for line in outcome_lines(result):
        print(line, file=out)
    if args.json:
        print(json.dumps(result.to_json(), indent=2, default=str))
    return result.exit_code(args.fail_on_rejected)


def _print_run(run: RunResult, as_json: bool) -> None:
    """The re-run's outcome as ``run`` prints it (all on stderr under ``--json``)."""
    from jupyter_mlops.cli.run_report import print_run_report
    from jupyter_mlops.execute.report import run_report

    if not as_json:
        print_run_report(run)
        return
    report = run_report(run)
    for line in [*report.details, *report.summary]:
        print(line, file=sys.stderr)


def _progress(names: list[str]) -> AbstractContextManager:  # type: ignore[type-arg]
    from jupyter_mlops.cli.progress import Progress

    return Progress(names)


def evaluation_lines(result: api.TriggerResult) -> list[str]:
    """One line per trigger, then what the fire does (or would do)."""
    lines = [
        f"{e.trigger.name} ({e.trigger.kind}): {e.status}: {e.reason}" for e in result.evaluations
    ]
    if result.fired is None:
        lines.append("nothing fired")
        return lines
    lead = "would fire" if result.dry_run else "fired"
    lines.append(f"{lead}: {result.fired.trigger.name}")
    lines += [f"  {'would ' if result.dry_run else ''}{line}" for line in result.plan]
    if result.dry_run:
        lines.append("dry run: nothing changed")
    return lines


def outcome_lines(result: api.TriggerResult) -> list[str]:
    """What the re-run left: the deploys and, for a rejection, that the served version stays."""
    lines = list(result.deploys)
    if result.rejected:
        lines.append(
            f"the gates rejected the new version of {', '.join(result.rejected)}: no alias moved, "
            "the served version does not change"
        )
    if result.run is not None and result.fired is not None:
        lines.append(
            f"trigger '{result.fired.trigger.name}' recorded on MLflow run {result.run.run_id}"
        )
    return lines
