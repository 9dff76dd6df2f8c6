"""A pool of warm, single-use Jupyter kernels, so a step never waits for a kernel to boot.

Kernels start in the background (on one event-loop thread owned by the pool) with the working
directory and environment of the steps that will use them. ``take`` hands one started and
ready kernel to exactly one step; ``discard`` shuts it down afterwards, in the background. A
kernel is never reused: every step gets a fresh namespace, as papermill gives it.

Kernels are ``AsyncKernelManager`` instances, as nbclient expects for its ``km=`` argument;
ipykernel kernels are forked from a warm template per launch config (``forked_kernels``),
which imported ipykernel and ``preload`` once, so the second kernel starts in a fraction of
the first one's time.
``close`` (also run at interpreter exit) stops every kernel the pool started, including
those still in use, so an interrupted run leaves no kernel processes behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import queue
import subprocess
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from jupyter_mlops.errors import KernelPoolError
from jupyter_mlops.execute.engines.base import close_at_exit, closed_already

if TYPE_CHECKING:
    from jupyter_client.manager import AsyncKernelManager

    from jupyter_mlops.execute.engines.forked_kernels import KernelTemplates

log = logging.getLogger(__name__)

DEFAULT_KERNEL = "python3"
DEFAULT_PRELOAD = ("jupyter_mlops.runtime.stepio",)
# CurveZMQ keys for kernels whose kernelspec supports them (ipykernel warns on plain TCP).
_ENCRYPTION = "auto"


@dataclass(frozen=True)
class LaunchConfig:
    """How kernels start: kernelspec name, working directory and extra environment variables.

    Kernels are only handed to steps whose config is equal to the one they started with.
    """

    kernel_name: str = DEFAULT_KERNEL
    cwd: str | None = None
    env: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(
        cls,
        kernel_name: str = DEFAULT_KERNEL,
        cwd: str | os.PathLike[str] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> LaunchConfig:
        """A config from plain values (``env`` is added to this process's environment)."""
        return cls(
            kernel_name=kernel_name,
            cwd=os.fspath(cwd) if cwd is not None else None,
            env=tuple(sorted((env or {}).items())),
        )

    def environment(self) -> dict[str, str]:
        """The kernel's full environment: this process's, plus ``env``."""
        return {**os.environ, **dict(self.env)}


class KernelPool:
    """Starts kernels ahead of time and hands each one out once.

    ``preload`` modules are imported in each kernel once it is ready (``__import__``, silent,
    without touching the user namespace or the execution count), so the first cell of a step
    does not pay for them.
    """

    def __init__(
        self,
        preload: Iterable[str] = DEFAULT_PRELOAD,
        startup_timeout: float = 60.0,
        shutdown_timeout: float = 10.0,
    ) -> None:
        self.preload = tuple(preload)
        self.idle_preload: tuple[str, ...] = ()  # forked kernels' template: while none waits
        self.startup_timeout = startup_timeout
        self.shutdown_timeout = shutdown_timeout
        self._lock = threading.Lock()
        self._waiting: dict[LaunchConfig, deque[Future[AsyncKernelManager]]] = {}
        self._kernels: set[AsyncKernelManager] = set()  # started and not yet shut down
        self._starting: set[asyncio.Task[Any]] = set()  # on the loop thread only
        self._stopping: dict[AsyncKernelManager, asyncio.Task[Any]] = {}  # loop thread only
        self._closed = False
        self._templates: KernelTemplates | None = None  # started on the loop thread
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        close_at_exit(self)

    # -- public API -----------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once ``close`` was called: no kernel starts any more."""
        return self._closed

    def fill(self, config: LaunchConfig, count: int) -> None:
        """Have at least ``count`` kernels for ``config`` ready or starting (start the rest)."""
        with self._lock:
            if self._closed:
                return
            waiting = self._waiting.setdefault(config, deque())
            missing = count - len(waiting)
            for _ in range(max(0, missing)):
                waiting.append(self._submit(self._start(config)))

    def take(self, config: LaunchConfig, keep_warm: int = 0) -> AsyncKernelManager:
        """A started, ready kernel for ``config``, for one use; blocks until there is one.

        Prefers a kernel that is already ready, else the one that started first, else starts
        one. Then tops the pool up to ``keep_warm`` kernels for ``config`` in the background.
        ``KernelPoolError`` when the kernel cannot start or the pool is closed.
        """
        with self._lock:
            if self._closed:
                raise KernelPoolError("the kernel pool is closed")
            waiting = self._waiting.setdefault(config, deque())
            ready = [future for future in waiting if future.done()]
            if ready:
                chosen = ready[0]
                waiting.remove(chosen)
            elif waiting:
                chosen = waiting.popleft()
            else:
                chosen = self._submit(self._start(config))
        self.fill(config, keep_warm)
        try:
            return chosen.result(timeout=self.startup_timeout + self.shutdown_timeout)
        except FutureTimeout as exc:
            chosen.add_done_callback(lambda f: self._discard_future(f))
            raise KernelPoolError(
                f"kernel '{config.kernel_name}' did not start in {self.startup_timeout:.0f} s"
            ) from exc
        except KernelPoolError:
            raise
        except Exception as exc:  # noqa: BLE001 - anything jupyter_client raises
            raise KernelPoolError(
                f"kernel '{config.kernel_name}' failed to start: {type(exc).__name__}: {exc}"
            ) from exc

    def discard(self, km: AsyncKernelManager) -> Future[None] | None:
        """Shut a used kernel down in the background; the returned future ends with it."""
        with self._lock:
            if self._closed or self._loop is None or km not in self._kernels:
                return None
            return self._submit(self._shutdown(km, now=False))

    def kernel_pids(self) -> list[int]:
        """Process ids of the kernels the pool started and has not shut down yet."""
        with self._lock:
            kernels = list(self._kernels)
        pids = []
        for km in kernels:
            process = getattr(km.provisioner, "process", None)
            if process is not None and process.poll() is None:
                pids.append(process.pid)
        return pids

    def close(self) -> None:
        """Stop every kernel the pool started (idle, starting or in use) and wait for them."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            loop, thread = self._loop, self._thread
            self._waiting.clear()
        closed_already(self)
        if loop is None or thread is None:
            return
        pending = asyncio.run_coroutine_threadsafe(self._stop_all(), loop)
        try:
            pending.result(timeout=self.startup_timeout + 2 * self.shutdown_timeout)
        except Exception:  # noqa: BLE001 - close must not fail; leftovers are killed below
            log.warning("kernel pool did not stop cleanly", exc_info=True)
            self._kill_leftovers()
        if self._templates is not None:
            self._templates.close()
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=self.shutdown_timeout)
        if not thread.is_alive():
            loop.close()

    def __enter__(self) -> KernelPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the event-loop thread ------------------------------------------------------------

    def _submit(self, coroutine: Any) -> Future[Any]:
        """Run ``coroutine`` on the pool's loop thread (started on first use). Hold the lock."""
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
            self._thread = threading.Thread(
                target=self._loop.run_forever, name="jupyter-mlops-kernel-pool", daemon=True
            )
            self._thread.start()
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop)

    async def _start(self, config: LaunchConfig) -> AsyncKernelManager:
        from jupyter_mlops.execute.engines.forked_kernels import (
            ForkingKernelManager,
            KernelTemplates,
        )

        task = asyncio.current_task()
        km = ForkingKernelManager(kernel_name=config.kernel_name, transport_encryption=_ENCRYPTION)
        if self._templates is None:
            self._templates = KernelTemplates()
        km.template = self._templates.get(config.cwd, config.env, self.preload, self.idle_preload)
        with self._lock:
            if self._closed:
                raise KernelPoolError("the kernel pool is closed")
            self._kernels.add(km)
        if task is not None:
            self._starting.add(task)
        try:
            await km.start_kernel(cwd=config.cwd, env=config.environment())
            await self._wait_ready(km)
        except BaseException:
            await self._shutdown(km, now=True)
            raise
        finally:
            self._starting.discard(task)  # type: ignore[arg-type]
        return km

    async def _wait_ready(self, km: AsyncKernelManager) -> None:
        """Wait until the kernel answers, then import ``preload`` in it (silently)."""
        kc = km.client()
        kc.start_channels()
        try:
            await wait_until_ready(kc, self.startup_timeout)
            if self.preload:
                names = ", ".join(repr(name) for name in self.preload)
                code = f"for _jm_module in ({names},): __import__(_jm_module)\ndel _jm_module"
                reply = await kc.execute(
                    code,
                    silent=True,
                    store_history=False,
                    allow_stdin=False,
                    reply=True,
                    timeout=self.startup_timeout,
                )
                if reply["content"].get("status") != "ok":
                    content = reply["content"]
                    log.debug("preload failed: %s: %s", content.get("ename"), content.get("evalue"))
        finally:
            kc.stop_channels()

    async def _shutdown(self, km: AsyncKernelManager, now: bool) -> None:
        """Stop one kernel (politely unless ``now``), ignoring one that is already gone."""
        task = asyncio.current_task()
        if task is not None:
            self._stopping[km] = task
        try:
            if km.has_kernel and not now:
                await asyncio.wait_for(_polite_shutdown(km), self.shutdown_timeout)
            elif km.has_kernel:
                await asyncio.wait_for(km.shutdown_kernel(now=True), self.shutdown_timeout)
            else:
                await km.cleanup_resources()
        except BaseException:  # a dead kernel, closed sockets, a timeout: kill it
            log.debug("kernel shutdown failed; killing it", exc_info=True)
            _kill(km)
            with contextlib.suppress(Exception):
                await km.cleanup_resources()
        finally:
            self._stopping.pop(km, None)
            with self._lock:
                self._kernels.discard(km)

    def _discard_future(self, future: Future[AsyncKernelManager]) -> None:
        if not future.cancelled() and future.exception() is None:
            self.discard(future.result())

    async def _stop_all(self) -> None:
        """Cancel starts under way, kill every started kernel, wait for shutdowns under way."""
        starting = list(self._starting)
        for task in starting:
            task.cancel()
        await asyncio.gather(*starting, return_exceptions=True)
        with self._lock:
            kernels = list(self._kernels)
        stops = []
        for km in kernels:
            if km in self._stopping:
                _kill(km)  # a polite shutdown under way ends as soon as the process is gone
                stops.append(self._stopping[km])
            else:
                stops.append(asyncio.ensure_future(self._shutdown(km, now=True)))
        await asyncio.gather(*stops, return_exceptions=True)

    def _kill_leftovers(self) -> None:
        with self._lock:
            kernels = list(self._kernels)
            self._kernels.clear()
        for km in kernels:
            _kill(km)


async def wait_until_ready(kc: Any, timeout: float) -> None:
    """Wait until a (booting) kernel answers ``kernel_info``, then until IOPub flows."""
    deadline = time.monotonic() + timeout
    kc.kernel_info()
    while True:
        try:
            reply = await kc.get_shell_msg(timeout=0.5)
            if reply["msg_type"] == "kernel_info_reply":
                break
        except queue.Empty:
            pass
        await _check_alive(kc, deadline, timeout)
    await wait_for_iopub(kc, max(0.0, deadline - time.monotonic()))


async def _check_alive(kc: Any, deadline: float, timeout: float) -> None:
    """Raise when the kernel died or ``deadline`` (``timeout`` seconds in all) has passed."""
    if not await kc.is_alive():
        raise RuntimeError("Kernel died before replying to kernel_info")
    if time.monotonic() > deadline:
        raise RuntimeError(f"Kernel didn't respond in {timeout:.0f} seconds")


async def wait_for_iopub(kc: Any, timeout: float) -> None:
    """Wait until a new client of a running kernel receives IOPub messages.

    ``kernel_info`` makes the kernel publish its busy/idle status; once one arrives the
    subscription is live and no output of the first cell can be missed. Polls every 20 ms
    (``KernelClient.wait_for_ready`` polls every 200 ms, long for an already ready kernel).
    """
    deadline = time.monotonic() + timeout
    while True:
        kc.kernel_info()
        try:
            await kc.get_iopub_msg(timeout=0.02)
            return
        except queue.Empty:
            pass
        await _check_alive(kc, deadline, timeout)


async def _polite_shutdown(km: AsyncKernelManager) -> None:
    """Ask an idle kernel to exit (SIGTERM, then SIGKILL if it does not), then clean up.

    Unlike ``shutdown_kernel`` this does not interrupt the kernel first: it has finished its
    step, and an interrupt only makes ipykernel log a ``KeyboardInterrupt``.
    """
    km.shutting_down = True
    await km.request_shutdown()
    await km.finish_shutdown()
    await km.cleanup_resources()


def _kill(km: AsyncKernelManager) -> None:
    """SIGKILL the kernel process, without the event loop."""
    process = getattr(km.provisioner, "process", None)
    if process is not None and process.poll() is None:
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            process.kill()
            process.wait(timeout=5)
