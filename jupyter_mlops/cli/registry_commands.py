"""``jupyter mlops history`` and ``jupyter mlops rollback``: a model's alias moves, and
moving an alias back along them."""

from __future__ import annotations

import argparse
import json

from jupyter_mlops import api
from jupyter_mlops.cli.options import add_tracking_uri

TARGET_HELP = "a pipeline folder, its notebook, or a registered model name"


def add_history_parser(commands: argparse._SubParsersAction) -> None:
    """The ``history`` subcommand's arguments."""
    history = commands.add_parser(
        "history",
        help="list a registered model's alias moves (who moved what, when, why)",
        description="Print every recorded alias move of the registered model of MODEL, "
        "oldest first: time, alias, from → to, reason, user, gate outcome and rollout.",
    )
    history.add_argument("target", metavar="MODEL", help=TARGET_HELP)
    history.add_argument("--alias", help="only the moves of this alias")
    history.add_argument("--limit", type=int, help="only the latest N moves")
    history.add_argument(
        "--json", action="store_true", help='print {"model": NAME, "moves": [...]} as JSON'
    )
    add_tracking_uri(history)
    history.set_defaults(command=history_command)


def history_command(args: argparse.Namespace) -> int:
    """``jupyter mlops history``."""
    done = api.history(args.target, args.alias, args.tracking_uri, args.limit)
    if args.json:
        print(json.dumps(done.to_json(), indent=2))
        return 0
    for move in done.moves:
        print(move.describe())
    if not done.moves:
        which = f"alias '{args.alias}' of " if args.alias else ""
        print(f"no alias move recorded for {which}model '{done.model}'")
    return 0


def add_rollback_parser(commands: argparse._SubParsersAction) -> None:
    """The ``rollback`` subcommand's arguments."""
    rollback = commands.add_parser(
        "rollback",
        help="move an alias (production) back to the version it held before",
        description="Move alias ALIAS of the registered model of MODEL back to the version it "
        "pointed at before its current one (from the recorded history), and clear its traffic "
        "split so that version serves all requests. With --deploy-target (MODEL then being the "
        "pipeline), roll that deploy target back: its alias, and a batch target's previous "
        "table or a package target's previous build. Exit 2 when no earlier version is recorded.",
    )
    rollback.add_argument("target", metavar="MODEL", help=TARGET_HELP)
    which = rollback.add_mutually_exclusive_group()
    which.add_argument(
        "--alias", default="production", help="the alias to move back (default: production)"
    )
    which.add_argument(
        "--deploy-target",
        metavar="NAME",
        help="a deploy target of the pipeline's pipeline.yaml to roll back (any kind)",
    )
    add_tracking_uri(rollback)
    rollback.set_defaults(command=rollback_command)


def rollback_command(args: argparse.Namespace) -> int:
    """``jupyter mlops rollback``."""
    if args.deploy_target:
        rolled = api.rollback_target(args.target, args.deploy_target, args.tracking_uri)
    else:
        rolled = api.rollback(args.target, args.alias, args.tracking_uri)
    print(rolled.describe())
    return 0
