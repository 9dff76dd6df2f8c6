"""Stop a process and everything it started, even children in sessions of their own.

Jupyter kernels start in a new session, so signalling the run's process group misses them:
the descendants are found through their parent links (psutil) as well.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from typing import Any


def stop_process_tree(pid: int, grace: float) -> None:
    """SIGTERM process ``pid``, its process group and every descendant; SIGKILL whatever is
    still alive after ``grace`` seconds (including processes started meanwhile)."""
    tree = process_tree(pid)
    signal_all(tree, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(_alive(p) for p in tree):
        time.sleep(0.05)
    for process in list(tree):
        if _alive(process):
            with contextlib.suppress(Exception):
                tree += [c for c in process.children(recursive=True) if c not in tree]
    signal_all(tree, signal.SIGKILL)


def process_tree(pid: int) -> list[Any]:
    """The process ``pid`` and all its descendants (``psutil.Process`` objects)."""
    import psutil

    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def signal_all(processes: list[Any], signum: int) -> None:
    """Send ``signum`` to each process (psutil refuses a reused pid) and to the process group
    the first one leads, while that one still exists."""
    import psutil

    if processes and _alive(processes[0]):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(processes[0].pid, signum)
    for process in processes:
        with contextlib.suppress(psutil.Error):
            process.send_signal(signum)


def _alive(process: Any) -> bool:
    import psutil

    try:
        return bool(process.is_running() and process.status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False
