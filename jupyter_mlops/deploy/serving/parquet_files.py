"""Parquet files of the prediction service (request log, feedback): each written whole under
a hidden temporary name, fsynced, then linked to ``<UTC time>-<seq>.parquet``, a name no other
writer (thread or process) has taken, so a reader never sees a partial file."""

from __future__ import annotations

import itertools
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas
    import pyarrow

_file_numbers = itertools.count(1)


def write_parquet_atomic(table: pyarrow.Table, directory: Path) -> Path:
    """Write ``table`` to ``directory/<UTC time>-<seq>.parquet``: a hidden temporary file,
    fsynced, then linked to a name no other writer (thread or process) has taken."""
    import pyarrow.parquet

    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / f".{uuid.uuid4().hex}.parquet.tmp"
    try:
        with open(tmp, "wb") as file:
            pyarrow.parquet.write_table(table, file)
            file.flush()
            os.fsync(file.fileno())
        return _link_new_name(tmp, directory)
    finally:
        tmp.unlink(missing_ok=True)


def _link_new_name(tmp: Path, directory: Path) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    while True:
        final = directory / f"{stamp}-{next(_file_numbers):06d}.parquet"
        try:
            os.link(tmp, final)
        except FileExistsError:
            continue
        except OSError:  # a file system without hard links: rename (may replace a name
            os.replace(tmp, final)  # another process took this very second)
        _fsync_directory(directory)
        return final


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot fsync a folder; the file itself was fsynced
    finally:
        os.close(fd)


def read_parquet_files(directory: Path) -> list[pandas.DataFrame]:
    """The frames of the finished ``*.parquet`` files in ``directory`` (temporary files,
    hidden, are skipped), in name order; none when the folder does not exist."""
    import pyarrow.parquet

    if not directory.is_dir():
        return []
    files = sorted(p for p in directory.glob("*.parquet") if not p.name.startswith("."))
    return [pyarrow.parquet.read_table(p).to_pandas() for p in files]


def as_utc_timestamp(when: Any) -> pandas.Timestamp:
    """``when`` (epoch seconds, ISO text, datetime) as a UTC pandas timestamp."""
    import pandas

    if isinstance(when, int | float):
        return pandas.Timestamp(when, unit="s", tz="UTC")
    stamp = pandas.Timestamp(when)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
