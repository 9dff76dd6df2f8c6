"""The warm template process of the ``inprocess`` engine (``python -m`` this module).

It imports, once per run, what every step needs (the step runtime, the setup code's libraries
and the pipeline's setup module), then forks one single-use child per step: each step starts
from the same clean, warm state and never sees another step's globals. Between requests it
imports what only some steps need (the estimator format) so that later steps find it loaded.

The parent sends one byte per child with a socket passed along (``SCM_RIGHTS``); the child
gets its task on that socket (a step, or a kernel for the papermill engine) and answers on
it. The template stays single-threaded (it forks; a thread watches the control socket only
while it imports). It and its steps ignore SIGINT: on Ctrl-C the CLI closes the pool, which
kills them (a step never reports a half-run ``KeyboardInterrupt`` as its failure). When the
parent closes the control socket or dies (even mid-import), or on SIGTERM, the template kills
the steps still running and exits; if the template itself dies, the kernel SIGKILLs its
children (``process_lifetime``).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import select
import signal
import socket
import sys
from typing import Any

from jupyter_mlops.execute.engines.process_lifetime import die_with_parent, exit_when_peer_closes

_children: set[int] = set()  # step children not reaped yet


def main(argv: list[str]) -> None:
    """``argv``: the control socket's file descriptor and the JSON config of the run."""
    control = socket.socket(fileno=int(argv[0]))
    config = json.loads(argv[1])
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _terminate)
    if config.get("pipeline_dir"):
        sys.path.insert(0, config["pipeline_dir"])
        os.chdir(config["pipeline_dir"])
    os.environ.update(config.get("env", {}))
    with exit_when_peer_closes(control.fileno()):  # the parent may die while we import
        for name in config["preload"]:
            import_quietly(name)
    serve(control, list(config.get("idle_preload", [])))
    kill_children()


def _terminate(signum: int, frame: object) -> None:
    kill_children()
    os._exit(0)


def kill_children() -> None:
    """SIGKILL the steps still running and collect them."""
    for pid in list(_children):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    for pid in list(_children):
        with contextlib.suppress(OSError):
            os.waitpid(pid, 0)
    _children.clear()


def serve(control: socket.socket, idle_preload: list[str]) -> None:
    """Fork a step child per request until the control socket closes; imports
    ``idle_preload`` one by one while no request waits."""
    while True:
        reap(_children)
        timeout = 0.0 if idle_preload else 1.0
        ready, _, _ = select.select([control], [], [], timeout)
        if not ready:
            if idle_preload:
                with exit_when_peer_closes(control.fileno()):
                    import_quietly(idle_preload.pop(0))
            continue
        try:
            message, descriptors, _, _ = socket.recv_fds(control, 1, 1)
        except OSError:
            return
        if not message:
            return
        for descriptor in descriptors:
            blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
            _children.add(fork_step(descriptor, control))  # SIGTERM waits until it is known
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
            os.close(descriptor)


def fork_step(descriptor: int, control: socket.socket) -> int:
    """Fork a child that runs the task received on ``descriptor``; returns its pid."""
    template = os.getpid()
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        die_with_parent(template)  # a SIGKILLed template takes its steps and kernels along
        control.close()
        _children.clear()
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
        run_one_task(descriptor)
        code = 0
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def run_one_task(descriptor: int) -> None:
    """In a child: receive a task on ``descriptor`` and run it (it answers on the same
    socket: a step's outcome, a kernel's pid)."""
    from multiprocessing.connection import Connection

    connection = Connection(descriptor)
    task = connection.recv()
    task.run_in_child(connection)


def reap(children: set[int]) -> None:
    """Forget the children that have exited (and collect their exit status)."""
    for pid in list(children):
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done = pid
        if done:
            children.discard(pid)


def import_quietly(name: str) -> Any:
    """Import ``name``; a failure is left for the step that needs it to report."""
    try:
        return importlib.import_module(name)
    except BaseException:  # noqa: BLE001 - user setup code may raise anything, even SystemExit
        return None


if __name__ == "__main__":
    main(sys.argv[1:])
