"""What a ``new_data`` trigger compares between evaluations: a fingerprint of its data.

* a file: its size, modification time (ns) and the sha256 of its content;
* a folder: the sorted listing of every file under it (hidden ones left out) with each
  file's relative path, size and modification time — content is not read, so a folder of
  large files costs one ``stat`` per file;
* a SQL query: the sha256 of its result rows, in the order the database returns them. The
  query is the user's: a cheap one such as ``SELECT count(*), max(updated_at) FROM t``
  watches a table without reading it.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from jupyter_mlops.errors import TriggerConfigError
from jupyter_mlops.triggers.config import Trigger

CHUNK = 1 << 20


@dataclass(frozen=True)
class Fingerprint:
    """A digest to compare and a summary with the measured figures, for the reason text."""

    digest: str
    summary: str


def fingerprint(trigger: Trigger) -> Fingerprint | None:
    """The fingerprint of what ``trigger`` watches; None when its file or folder is absent."""
    if trigger.path is None:
        return query_fingerprint(trigger)
    if trigger.path.is_dir():
        return folder_fingerprint(trigger.path)
    if trigger.path.is_file():
        return file_fingerprint(trigger.path)
    return None


def file_fingerprint(path: Path) -> Fingerprint:
    """Size, modification time and content hash of one file."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(CHUNK):
            digest.update(chunk)
    stat = path.stat()
    content = digest.hexdigest()
    combined = hashlib.sha256(f"{stat.st_size}:{stat.st_mtime_ns}:{content}".encode()).hexdigest()
    return Fingerprint(
        combined, f"{stat.st_size} bytes, modified {_iso(stat.st_mtime)}, sha256 {content[:12]}"
    )


def folder_fingerprint(folder: Path) -> Fingerprint:
    """The sorted listing (relative path, size, modification time) of a folder's files."""
    lines = []
    total = 0
    for directory, subdirs, files in os.walk(folder):
        subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
        for name in sorted(f for f in files if not f.startswith(".")):
            path = Path(directory) / name
            stat = path.stat()
            total += stat.st_size
            lines.append(
                f"{path.relative_to(folder).as_posix()}\t{stat.st_size}\t{stat.st_mtime_ns}"
            )
    digest = hashlib.sha256("\n".join(sorted(lines)).encode()).hexdigest()
    return Fingerprint(digest, f"{len(lines)} files, {total} bytes, listing {digest[:12]}")


def query_fingerprint(trigger: Trigger) -> Fingerprint:
    """The sha256 of the rows the trigger's query returns."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import SQLAlchemyError

    from jupyter_mlops.deploy.batch.database import masked_url

    assert trigger.url is not None and trigger.query is not None
    shown = masked_url(trigger.url)
    where = f"triggers.{trigger.name}"
    try:
        engine = create_engine(trigger.url)
    except (SQLAlchemyError, ModuleNotFoundError) as error:
        raise TriggerConfigError(f"{where}.url cannot open {shown}: {error}", name=where) from None
    try:
        with engine.connect() as connection:
            rows = [tuple(row) for row in connection.execute(text(trigger.query))]
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        raise TriggerConfigError(
            f"{where}.query failed on {shown}: {reason}", name=f"{where}.query"
        ) from None
    finally:
        engine.dispose()
    digest = hashlib.sha256(repr(rows).encode()).hexdigest()
    shown_rows = repr(rows[0]) if len(rows) == 1 else f"{len(rows)} rows"
    return Fingerprint(digest, f"query result {shown_rows}, sha256 {digest[:12]}")


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")
