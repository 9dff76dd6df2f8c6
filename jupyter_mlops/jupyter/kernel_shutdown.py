"""Work done when a client asks the kernel to shut down, before ipykernel ends its children.

ipykernel answers a shutdown request by sending SIGTERM to every child process in its process
group, again and again for 14 s, before SIGKILL. The resource trackers of multiprocessing and
loky (joblib's process pool: ``Parallel(n_jobs=2)``, scikit-learn's ``n_jobs``) ignore SIGTERM,
so such a kernel outlives its client's shutdown timeout (5 s in jupyter_client) and is killed:
nothing registered with ``atexit`` runs. :func:`on_shutdown_request` runs callbacks at the
request itself, then :func:`release_worker_pools` stops the pool and the trackers as the
kernel's exit would, so ipykernel finds no child process left to wait for.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
import time
from collections.abc import Callable
from typing import Any

_CALLBACKS = "_jupyter_mlops_shutdown_callbacks"
_LOKY_PACKAGES = ("joblib.externals.loky", "loky")


def on_shutdown_request(shell: Any, callback: Callable[[], None]) -> bool:
    """Call ``callback()`` when the kernel is asked to shut down (before it ends its child
    processes), then release worker pools. Through the kernel's ``do_shutdown``, the hook
    ipykernel gives for this. False without a kernel (terminal IPython)."""
    kernel: Any = getattr(shell, "kernel", None)
    do_shutdown = getattr(kernel, "do_shutdown", None)
    if do_shutdown is None:
        return False
    callbacks: list[Callable[[], None]] | None = getattr(kernel, _CALLBACKS, None)
    if callbacks is None:
        callbacks = []

        def shutting_down(*args: Any, **kwargs: Any) -> Any:
            for pending in list(callbacks):
                with contextlib.suppress(Exception):
                    pending()
            release_worker_pools()
            return do_shutdown(*args, **kwargs)

        setattr(kernel, _CALLBACKS, callbacks)
        kernel.do_shutdown = shutting_down
    if callback not in callbacks:
        callbacks.append(callback)
    return True


def release_worker_pools(wait: float = 1.0) -> None:
    """Shut loky's reusable process pool down (its idle workers exit, its temporary memmap
    folders go), then stop the loky and multiprocessing resource trackers, as the kernel's exit
    would. Only what was imported; best effort; at most ``wait`` seconds for each tracker."""
    for package in _LOKY_PACKAGES:
        module = sys.modules.get(f"{package}.reusable_executor")
        if module is not None:
            with contextlib.suppress(Exception):
                _terminate_reusable_executor(module)
    if os.name != "posix":
        return
    gc.collect()  # the pool's semaphores unregister from the trackers when collected
    trackers = [f"{package}.backend.resource_tracker" for package in _LOKY_PACKAGES]
    for name in [*trackers, "multiprocessing.resource_tracker"]:
        tracker = getattr(sys.modules.get(name), "_resource_tracker", None)
        if tracker is not None:
            with contextlib.suppress(Exception):
                _stop_tracker(tracker, time.monotonic() + wait)


def _terminate_reusable_executor(module: Any) -> None:
    """Shut loky's reusable executor down and forget it (a later pool starts afresh). Its
    workers exit by themselves: killed, they would leave semaphores for the tracker."""
    with module._executor_lock:
        executor, module._executor = module._executor, None
    if executor is not None:
        getattr(executor, "terminate", executor.shutdown)(kill_workers=False)


def _stop_tracker(tracker: Any, deadline: float) -> None:
    """Close the tracker's pipe: it cleans up and exits at end of file. Reaped until
    ``deadline``; a tracker whose pipe another process still holds (a forkserver) is left to
    end with that process."""
    with tracker._lock:
        fd, pid = tracker._fd, tracker._pid
        if fd is None or pid is None:
            return
        tracker._fd = None
        os.close(fd)
    while time.monotonic() < deadline:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            tracker._pid = None
            return
        time.sleep(0.01)
