"""CLI adapter of ``jupyter mlops gc``: prune a pipeline's artifact store.

Registered on the ``jupyter mlops`` parser by ``cli.build_parser``; it parses, calls
``api.gc`` and prints what was (or would be) removed and the bytes freed.
"""

from __future__ import annotations

import argparse
import json

from jupyter_mlops import api


def add_gc_parser(commands: argparse._SubParsersAction) -> None:
    """Add ``gc`` to the subcommands."""
    gc = commands.add_parser(
        "gc",
        help="remove artifacts no cached step result references",
        description="Remove the objects of PIPELINE/.mlops/objects that no step cache entry "
        "and no record a run still owes MLflow references. With --keep-runs N, each step "
        "keeps only its N most recent cached results; older ones are forgotten (those steps "
        "run again if asked for them). Holds the pipeline's run lock: refused while a run "
        "is in progress.",
    )
    gc.add_argument("pipeline", help="an extracted pipeline folder (or its notebook)")
    gc.add_argument(
        "--keep-runs",
        type=int,
        metavar="N",
        help="keep each step's N most recent cached results (default: every cached result)",
    )
    gc.add_argument("--dry-run", action="store_true", help="list what would go; remove nothing")
    gc.add_argument("--json", action="store_true", help="print the outcome as JSON")
    gc.set_defaults(command=gc_command)


def gc_command(args: argparse.Namespace) -> int:
    """``jupyter mlops gc``."""
    collection = api.gc(args.pipeline, keep_runs=args.keep_runs, dry_run=args.dry_run)
    if args.json:
        print(json.dumps(collection.to_json(), indent=2))
        return 0
    verb = "would remove" if collection.dry_run else "removed"
    for item in collection.removed:
        kind = f"  ({item.type})" if item.type else ""
        print(f"{verb} {item.hash[:12]}  {human_bytes(item.bytes)}{kind}")
    for entry in collection.removed_entries:
        print(f"{verb} cache entry {entry[: entry.index('/') + 13]}")
    print(
        f"{verb.capitalize()} {len(collection.removed)} objects and "
        f"{len(collection.removed_entries)} cache entries: "
        f"{human_bytes(collection.freed_bytes)} {'to free' if collection.dry_run else 'freed'}; "
        f"kept {collection.kept.objects} objects ({human_bytes(collection.kept.bytes)})"
    )
    return 0


def human_bytes(count: int) -> str:
    """``1536`` → ``1.5 KiB``."""
    units = ("B", "KiB", "MiB", "GiB", "TiB")
    size, power = float(count), 0
    while size >= 1024 and power < len(units) - 1:
        size, power = size / 1024, power + 1
    return f"{count} B" if power == 0 else f"{size:.1f} {units[power]}"
