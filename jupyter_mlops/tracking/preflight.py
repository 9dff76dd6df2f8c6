"""Check the tracking store before any step runs, so a run never works for minutes and then
fails to record: the URI's scheme is one MLflow takes, a SQLite store's folder is writable,
an MLflow server answers. Imports no MLflow (a no-change re-run stays fast).
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from jupyter_mlops.errors import UnusableTrackingStore
from jupyter_mlops.tracking.store import sqlite_path

SCHEMES = ("file", "sqlite", "postgresql", "mysql", "mssql", "http", "https", "databricks")
"""Tracking URI schemes MLflow takes (a database scheme may name its driver: ``mysql+pymysql``)."""
SERVER_TIMEOUT = 10.0


def check_tracking_store(uri: str) -> None:
    """Raise ``UnusableTrackingStore`` (one line, exit 2) when ``uri`` cannot hold the run's
    records; return quietly when it can, as far as can be told without writing."""
    scheme = urlsplit(uri).scheme.split("+")[0].lower()
    if scheme and scheme not in SCHEMES and not os.path.isabs(uri):
        raise UnusableTrackingStore(
            f"unsupported tracking URI scheme '{scheme}' (MLflow takes "
            f"{', '.join(SCHEMES)}): pass --tracking-uri, or --no-track",
            name=uri,
        )
    if scheme == "sqlite":
        _check_sqlite(uri)
    elif scheme in ("http", "https"):
        _check_server(uri)


def _check_sqlite(uri: str) -> None:
    path = sqlite_path(uri)
    if path is None:
        return
    folder = path.parent if str(path.parent) else None
    if folder is not None and not folder.is_dir():
        raise UnusableTrackingStore(
            f"the folder of the SQLite tracking store does not exist: {folder}", name=uri
        )
    target = path if path.exists() else (folder or path.parent)
    if not os.access(target, os.W_OK):
        raise UnusableTrackingStore(
            f"the SQLite tracking store is not writable: {target} (pass --tracking-uri, "
            "or --no-track)",
            name=uri,
        )


def _check_server(uri: str) -> None:
    """The server answers ``/health`` (any HTTP answer below 500 counts: a proxy asking for
    credentials is reachable)."""
    try:
        with urllib.request.urlopen(uri.rstrip("/") + "/health", timeout=SERVER_TIMEOUT):
            return
    except urllib.error.HTTPError as error:
        if error.code < 500:
            return
        reason = f"HTTP {error.code}"
    except (OSError, ValueError) as error:
        reason = str(getattr(error, "reason", None) or error)
    raise UnusableTrackingStore(
        f"cannot reach the MLflow server at {uri} ({reason}): start it, pass --tracking-uri, "
        "or --no-track; no step was run",
        name=uri,
    )
