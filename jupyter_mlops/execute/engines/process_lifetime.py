"""Processes that must not outlive their parent: steps, kernels, templates, fresh workers.

On Linux a child asks the kernel for a signal when its parent dies (``PR_SET_PDEATHSIG``).
The kernel sends it when the *thread* that forked the child exits, so it is only set in
children of a single-threaded process: the steps and kernels a template forks. A template,
whose parent (the CLI) is multi-threaded, instead watches its control socket: the parent's
end closes when the parent dies, even by SIGKILL. Standard library only: the template
imports it.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import select
import signal
import sys
import threading
from collections.abc import Iterator

_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def die_with_parent(parent: int | None = None) -> None:
    """Have this process SIGKILLed when its parent dies (Linux only); exits at once when the
    parent (``parent``, the pid it had before forking, else the current one) is already gone."""
    if not sys.platform.startswith("linux"):
        return
    expected = os.getppid() if parent is None else parent
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != expected:  # it died before the request took effect
        os._exit(1)


@contextlib.contextmanager
def exit_when_peer_closes(control: int) -> Iterator[None]:
    """While the block runs (e.g. a slow import, when the control socket is not being read),
    ``os._exit`` as soon as the other end of the stream socket ``control`` closes. The
    watching thread has ended when the block ends, so the process may fork afterwards."""
    stop = threading.Event()
    watcher = threading.Thread(target=_watch, args=(control, stop), daemon=True)
    watcher.start()
    try:
        yield
    finally:
        stop.set()
        watcher.join()


def _watch(control: int, stop: threading.Event) -> None:
    poller = select.poll()
    poller.register(control, getattr(select, "POLLRDHUP", 0) | select.POLLHUP)
    while not stop.is_set():
        if poller.poll(50):  # POLLRDHUP, POLLHUP or POLLERR: the peer has gone
            os._exit(0)  # children have PR_SET_PDEATHSIG: they die with this process
