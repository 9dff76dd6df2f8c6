"""CLI adapter of ``jupyter mlops deploy``: a progressive rollout to a deploy target.

It parses, calls ``api.deploy`` with a progress callback printing each step as it
happens, and prints the outcome (or, with ``--json``, the result object). Exit 0 when
promoted, 1 when rolled back.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from jupyter_mlops import api
from jupyter_mlops.cli.options import add_tracking_uri

if TYPE_CHECKING:
    from jupyter_mlops.deploy.rollout.result import RolloutEvent


def add_deploy_parser(commands: argparse._SubParsersAction) -> None:
    """Add ``deploy`` to the subcommands."""
    deploy = commands.add_parser(
        "deploy",
        help="roll a model version out to a deploy target (canary, blue-green, A/B, shadow)",
        description="Roll a version of the pipeline's model out to TARGET, a deploy target of "
        "the deploy: section of pipeline.yaml, through the traffic split the prediction "
        "service follows: the candidate is loaded with no traffic, smoke-tested and "
        "load-checked, then taken through the strategy's phases, each analysed (error rate, "
        "p99 latency, prediction drift against the stable version). It returns when the alias "
        "is on the candidate (exit 0) or the candidate was rolled back (exit 1, the failed "
        "check printed). Each rollout is recorded in MLflow and in the alias history.",
    )
    deploy.add_argument("pipeline", help="a pipeline folder or its notebook")
    deploy.add_argument("target", help="the deploy target's name in pipeline.yaml")
    which = deploy.add_mutually_exclusive_group()
    which.add_argument("--version", help="the model version to roll out")
    which.add_argument(
        "--alias", help="roll out the version this alias points at (default: challenger)"
    )
    which.add_argument(
        "--abort",
        action="store_true",
        help="clear the traffic split a killed rollout left on the target's alias (recorded)",
    )
    deploy.add_argument("--strategy", choices=api.STRATEGIES, help="override the target's strategy")
    add_tracking_uri(deploy)
    deploy.add_argument(
        "--json", action="store_true", help="print the rollout's result as JSON, no progress"
    )
    deploy.set_defaults(command=deploy_command)


class EventPrinter:
    """One line per rollout step; a batch deploy's ``scoring`` events drive a row
    progress bar on stderr instead (one line per chunk would flood the log)."""

    def __init__(self) -> None:
        from jupyter_mlops.cli.row_progress import RowProgress

        self.rows = RowProgress()

    def __call__(self, event: RolloutEvent) -> None:
        if event.kind == "scoring":
            self.rows(int(event.data["rows"]), event.data.get("total"))
            return
        self.rows.finish()
        print(event.message, flush=True)


def deploy_command(args: argparse.Namespace) -> int:
    """``jupyter mlops deploy``: 0 promoted, 1 rolled back."""
    if args.abort:
        print(api.abort_deploy(args.pipeline, args.target, args.tracking_uri))
        return 0
    result = api.deploy(
        args.pipeline,
        args.target,
        version=args.version,
        alias=args.alias,
        strategy=args.strategy,
        tracking_uri=args.tracking_uri,
        progress=None if args.json else EventPrinter(),
    )
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
    elif not result.promoted:
        for check in result.failed:
            print(f"failed check: {check.describe()}")
    return 0 if result.promoted else 1
