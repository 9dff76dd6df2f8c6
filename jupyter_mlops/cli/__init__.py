"""The jupyter mlops command line: parses arguments, calls jupyter_mlops.api, renders results."""

from jupyter_mlops.cli.main import main

__all__ = ["main"]
