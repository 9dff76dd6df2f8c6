"""Options several ``jupyter mlops`` subcommands share, worded once."""

from __future__ import annotations

import argparse

TRACKING_URI_HELP = (
    "MLflow tracking URI (default: $MLFLOW_TRACKING_URI, else sqlite:///<project>/mlflow.db)"
)


def add_tracking_uri(parser: argparse.ArgumentParser) -> None:
    """``--tracking-uri URI``."""
    parser.add_argument("--tracking-uri", metavar="URI", help=TRACKING_URI_HELP)
