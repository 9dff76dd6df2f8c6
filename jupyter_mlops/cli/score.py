"""CLI adapter of ``jupyter mlops score``: serving as data, a registered version scoring a
key set into a predictions table swapped in atomically. Parses, calls ``api.score``,
shows progress on stderr and prints the result (a line, or JSON with ``--json``)."""

from __future__ import annotations

import argparse
import json

from jupyter_mlops import api
from jupyter_mlops.cli.options import add_tracking_uri


def add_score_parser(commands: argparse._SubParsersAction) -> None:
    """Add ``score`` to the subcommands."""
    score = commands.add_parser(
        "score",
        help="pre-score a key set into a database table (serving as data)",
        description="Score every row of SOURCE with a registered model version and write "
        "KEY → prediction (and proba_<class> where the model has class probabilities), with "
        "model_name, model_version and scored_at, into a table. Rows are read, checked "
        "against the model's signature and written in chunks; the new table is swapped in "
        "atomically, the replaced one kept as <table>__previous. Databases other than "
        "SQLite need their Python driver (PostgreSQL: pip install 'psycopg[binary]').",
    )
    score.add_argument("model", help="MODEL (its production alias), MODEL@ALIAS or MODEL/VERSION")
    score.add_argument(
        "--input",
        metavar="SOURCE",
        required=True,
        help="a .parquet or .csv file, or a SQLAlchemy database URL with --query",
    )
    score.add_argument("--key", metavar="COL", required=True, help="the column keying each row")
    score.add_argument("--query", metavar="SQL", help="the SQL query giving the rows of SOURCE")
    score.add_argument(
        "--into",
        metavar="URL",
        default=api.scoring.DEFAULT_INTO,
        help=f"SQLAlchemy URL of the database to write (default: {api.scoring.DEFAULT_INTO})",
    )
    score.add_argument(
        "--table", metavar="NAME", help="the predictions table (default: <model>_predictions)"
    )
    score.add_argument(
        "--chunk-rows",
        metavar="N",
        type=int,
        default=api.scoring.DEFAULT_CHUNK_ROWS,
        help=f"rows read and written at a time (default: {api.scoring.DEFAULT_CHUNK_ROWS})",
    )
    score.add_argument("--json", action="store_true", help="print the result as JSON")
    add_tracking_uri(score)
    score.set_defaults(command=score_command)


def score_command(args: argparse.Namespace) -> int:
    """``jupyter mlops score``."""
    from jupyter_mlops.cli.row_progress import RowProgress

    progress = RowProgress()
    try:
        result = api.score(
            args.model,
            args.input,
            args.key,
            query=args.query,
            into=args.into,
            table=args.table,
            chunk_rows=args.chunk_rows,
            tracking_uri=args.tracking_uri,
            progress=progress,
        )
    finally:
        progress.finish()
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
        return 0
    replaced = f", replacing version {result.previous_version}" if result.previous_version else ""
    print(
        f"scored {result.rows:,} rows of {result.source} with {result.model} version "
        f"{result.version} into {result.table} of {result.into} in {result.seconds:.1f}s{replaced}"
    )
    return 0
