"""One run per pipeline folder at a time: ``<pipeline>/.mlops/run.lock``.

A run holds an exclusive ``fcntl.flock`` on the lock file of the folder's resolved real path
(so symlink aliases of one folder share it) for as long as it runs, and writes its holder
into it: pid, host, start time and command, one JSON object. A second run of the same
folder is **refused** at once — :class:`~jupyter_mlops.errors.PipelineBusy`, exit 2, naming
the holder — rather than waiting: a run waiting behind another would re-do or re-record
nothing useful, and a front end (the REST run manager) shows the one-line refusal as the
run's error. The kernel releases a flock when its holder dies, so a killed run never blocks
the next one; the file itself stays and is simply locked again.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from jupyter_mlops.errors import MlopsError, PipelineBusy

LOCK_NAME = "run.lock"


def lock_path(folder: str | os.PathLike[str]) -> Path:
    """The lock file of pipeline folder ``folder`` (by its resolved real path)."""
    return Path(folder).resolve() / ".mlops" / LOCK_NAME


def holder_info(command: str | None = None) -> dict[str, object]:
    """What the lock file says about its holder: this process."""
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": command if command is not None else " ".join(sys.argv),
    }


def describe_holder(path: Path) -> str:
    """The holder named in lock file ``path``, as a phrase."""
    try:
        holder = json.loads(path.read_text(encoding="utf-8"))
        return (
            f"pid {holder['pid']} on {holder['host']}, started {holder['started']} "
            f"({holder['command']})"
        )
    except (OSError, ValueError, KeyError, TypeError):
        return "another process (it has not written its details yet)"


@contextlib.contextmanager
def pipeline_lock(folder: str | os.PathLike[str], command: str | None = None) -> Iterator[Path]:
    """Hold the run lock of pipeline folder ``folder`` inside the block; PipelineBusy when
    another run holds it."""
    path = lock_path(folder)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as error:
        raise MlopsError(f"cannot create the run lock: {error.strerror}", path=str(path)) from None
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise PipelineBusy(
                f"another run of this pipeline is in progress: {describe_holder(path)}; "
                "wait for it to end, or stop it",
                path=str(path.parent.parent),
            ) from None
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, json.dumps(holder_info(command)).encode(), 0)
        yield path
    finally:
        os.close(descriptor)  # closing releases the lock
