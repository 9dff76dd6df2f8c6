"""IPython kernels forked from a warm template, so a kernel starts without a Python start-up,
without importing ipykernel and with the setup code's libraries already imported.

``ForkingKernelManager`` is an ``AsyncKernelManager`` whose ``_async_launch_kernel`` (the
documented place to launch kernels differently) asks a ``WorkerPool`` template to fork a
child that runs ``IPKernelApp`` with the kernelspec's arguments, when the kernelspec runs
``ipykernel_launcher`` with this interpreter; any other kernel is launched as usual. Each
kernel is a fresh process in its own session (signals go to its process group, as for a
launched kernel) and exits if the template, its parent, goes away.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager

from jupyter_mlops.errors import WorkerPoolError
from jupyter_mlops.execute.engines.worker_pool import WorkerPool

LAUNCHER = "ipykernel_launcher"
KERNEL_PRELOAD = ("ipykernel.kernelapp",)


@dataclass(frozen=True)
class KernelLaunch:
    """Run an IPython kernel in a child of the template; sends its pid back first."""

    argv: list[str]  # ipykernel's arguments, e.g. ["-f", "<connection file>"]
    env: dict[str, str]
    cwd: str

    def run_in_child(self, connection: Connection) -> None:
        os.setsid()
        os.chdir(self.cwd)
        os.environ.clear()
        os.environ.update(self.env)
        os.environ["JPY_PARENT_PID"] = str(os.getppid())  # the kernel exits with the template
        connection.send(os.getpid())  # the connection stays open: its end is the kernel's exit
        from ipykernel.kernelapp import IPKernelApp

        sys.argv = [LAUNCHER, *self.argv]
        IPKernelApp.launch_instance(argv=self.argv)


class ForkedProcess:
    """The ``Popen``-like handle of a forked kernel, as jupyter_client's provisioner uses it.

    The kernel is the template's child, not ours: it has exited once its end of the
    connection closes.
    """

    stdin = stdout = stderr = None

    def __init__(self, pid: int, connection: Connection) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self._connection = connection
        self._signalled: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None and self._connection.poll(0):
            self._connection.close()
            self.returncode = -self._signalled if self._signalled else 0
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None and not self._connection.poll(timeout):
            raise subprocess.TimeoutExpired(LAUNCHER, timeout or 0.0)
        code = self.poll()
        assert code is not None
        return code

    def send_signal(self, signum: int) -> None:
        if self.returncode is None:
            os.kill(self.pid, signum)
            if signum in (signal.SIGKILL, signal.SIGTERM):
                self._signalled = signum

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


class ForkingKernelManager(AsyncKernelManager):
    """A kernel manager that forks ipykernel kernels from ``template`` (when set)."""

    template: WorkerPool | None = None

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
        arguments = ipykernel_arguments(kernel_cmd)
        if self.template is None or arguments is None or self.provisioner is None:
            await super()._async_launch_kernel(kernel_cmd, **kw)
            return
        launch = KernelLaunch(
            argv=arguments, env=dict(kw.get("env") or os.environ), cwd=str(kw.get("cwd") or ".")
        )
        try:
            connection = self.template.start(launch)
            pid = connection.recv()
        except (WorkerPoolError, EOFError, OSError) as error:
            raise RuntimeError(f"could not fork a kernel: {error}") from error
        provisioner: Any = self.provisioner
        provisioner.process = ForkedProcess(pid, connection)
        provisioner.pid = provisioner.pgid = pid
        provisioner.cwd = launch.cwd
        self._reconcile_connection_info(provisioner.connection_info)


def ipykernel_arguments(kernel_cmd: list[str]) -> list[str] | None:
    """The arguments after ``-m ipykernel_launcher`` when ``kernel_cmd`` runs it with this
    interpreter (the template's), else None."""
    if len(kernel_cmd) < 3 or not _same_interpreter(kernel_cmd[0]):
        return None
    for index in range(1, len(kernel_cmd) - 1):
        if kernel_cmd[index] == "-m" and kernel_cmd[index + 1] == LAUNCHER:
            return kernel_cmd[index + 2 :]
    return None


def _same_interpreter(executable: str) -> bool:
    return os.path.abspath(executable) == os.path.abspath(sys.executable)


class KernelTemplates:
    """One warm kernel template per launch config (working directory and environment)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._templates: dict[tuple[str | None, tuple[tuple[str, str], ...]], WorkerPool] = {}
        self._closed = False

    def get(
        self,
        cwd: str | None,
        env: tuple[tuple[str, str], ...],
        preload: Sequence[str],
        idle_preload: Sequence[str] = (),
    ) -> WorkerPool | None:
        """The template for ``cwd``/``env`` (``preload`` imported, then ``idle_preload``
        while no kernel waits), started on first use."""
        with self._lock:
            if self._closed:
                return None
            template = self._templates.get((cwd, env))
            if template is None:
                modules = list(dict.fromkeys([*KERNEL_PRELOAD, *preload]))
                folder = Path(cwd) if cwd is not None else None
                template = WorkerPool(modules, idle_preload, pipeline_dir=folder, env=dict(env))
                self._templates[(cwd, env)] = template
            return template

    def close(self) -> None:
        """End every template (the kernels they forked exit with them)."""
        with self._lock:
            self._closed = True
            templates, self._templates = list(self._templates.values()), {}
        for template in templates:
            template.close()
