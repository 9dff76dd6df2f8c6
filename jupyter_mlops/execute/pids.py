"""Whether a process of this host still runs, by its pid."""

from __future__ import annotations

import os


def pid_exists(pid: int) -> bool:
    """Whether process ``pid`` exists on this host (one of another user's counts)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
