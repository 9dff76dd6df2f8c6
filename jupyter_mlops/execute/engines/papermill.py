"""The ``papermill`` engine: run each step's generated notebook with papermill.

The executed notebook is the step's report. Two things keep it fast: ``import papermill``
(seconds, see DESIGN.md) happens once per process, in a background thread started by
``prepare``; and kernels come warm from a ``KernelPool`` started ahead of time, handed to
papermill through nbclient's ``km=`` argument, one kernel per step (a fresh namespace, as
papermill gives), shut down in the background once the step is done.

Kernels start in the step's pipeline folder (so ``import <package>.<step>`` works) with
``JUPYTER_MLOPS_STORE`` set to the run's store; papermill is not given ``cwd``, which would
``chdir`` the whole process and race between parallel steps.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jupyter_mlops.errors import MlopsError
from jupyter_mlops.execute.engines.base import (
    StepJob,
    StepOutcome,
    Stopwatch,
    format_modules,
    setup_libraries,
    setup_module,
)
from jupyter_mlops.execute.engines.kernel_pool import (
    DEFAULT_KERNEL,
    DEFAULT_PRELOAD,
    KernelPool,
    KernelPoolError,
    LaunchConfig,
    wait_for_iopub,
)
from jupyter_mlops.runtime.stepio import OUTPUTS_FILE, STORE_ENV, read_outputs

if TYPE_CHECKING:
    from types import ModuleType

    from jupyter_client.manager import AsyncKernelManager

PAPERMILL_ENGINE_NAME = "jupyter_mlops_pooled"  # our nbclient engine in papermill's registry

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
_RULE = re.compile(r"^-{10,}$")
_HEADER = re.compile(r"^\S.*\s+Traceback \(most recent call last\)$")
_FRAME = re.compile(r"^(?:File (?P<path>.+):\d+(?:, in .*)?|Cell In\[\d+\], line \d+)$")
_import_lock = threading.Lock()
# nbclient's log: its errors (a dead kernel, e.g. after Ctrl-C) are the step's outcome already
_CLIENT_LOG = logging.getLogger("jupyter_mlops.nbclient")
_CLIENT_LOG.addHandler(logging.NullHandler())
_CLIENT_LOG.propagate = False
_imported: ModuleType | None = None


class PapermillEngine:
    """Runs step notebooks with papermill on warm, single-use kernels.

    ``warm_kernels=False`` starts each step's kernel on demand (the cold baseline).
    """

    name = "papermill"

    def __init__(
        self,
        workers: int,
        kernel_name: str = DEFAULT_KERNEL,
        warm_kernels: bool = True,
        pool: KernelPool | None = None,
    ) -> None:
        self.workers = max(1, workers)
        self.kernel_name = kernel_name
        self.warm_kernels = warm_kernels
        self._owns_pool = pool is None
        self._pool = pool or KernelPool()
        self._lock = threading.Lock()
        self._expected = 0
        self._taken = 0

    def prepare(
        self,
        jobs_expected: int,
        *,
        pipeline_dir: Path | str | None = None,
        store_root: Path | str | None = None,
    ) -> None:
        """Start importing papermill; with the run's folders known, start kernels too.

        Without ``pipeline_dir``/``store_root`` the pool fills on the first ``run`` (only the
        first wave of steps then waits for kernels to start).
        """
        with self._lock:
            self._expected = max(0, jobs_expected)
            self._taken = 0
            if self._pool.closed and self._owns_pool:  # a new run after close()
                self._pool = KernelPool()
        start_papermill_import()
        if self.warm_kernels and pipeline_dir is not None and store_root is not None:
            if self._owns_pool:  # warm kernels import the setup code's libraries too
                libraries = setup_libraries(Path(pipeline_dir))
                module = setup_module(Path(pipeline_dir))
                formats, idle_formats = format_modules(Path(pipeline_dir))
                modules = [*DEFAULT_PRELOAD, *formats, *libraries, *([module] if module else [])]
                self._pool.preload = tuple(dict.fromkeys(modules))
                self._pool.idle_preload = tuple(idle_formats)
            config = self._config(Path(pipeline_dir), Path(store_root))
            self._pool.fill(config, min(self.workers, self._expected))

    def run(self, job: StepJob) -> StepOutcome:
        """Execute ``job.notebook`` into ``job.report_path``; outputs from ``outputs.json``."""
        watch = Stopwatch()
        start_papermill_import()
        config = self._config(job.pipeline_dir, job.store_root)
        try:
            km = self._pool.take(config, keep_warm=self._keep_warm_after_take())
        except KernelPoolError as exc:
            return StepOutcome(error=exc.message, seconds=watch.seconds())
        try:
            outcome = self._execute(job, km)
        finally:
            self._pool.discard(km)
        outcome.seconds = watch.seconds()
        return outcome

    def close(self) -> None:
        """Stop every kernel, including those of steps still running (they fail).

        A step started after ``close`` fails too, until ``prepare`` starts a new run.
        """
        self._pool.close()

    def _config(self, pipeline_dir: Path, store_root: Path) -> LaunchConfig:
        return LaunchConfig.of(
            self.kernel_name,
            cwd=Path(pipeline_dir).resolve(),
            env={STORE_ENV: str(Path(store_root).resolve())},
        )

    def _keep_warm_after_take(self) -> int:
        """Kernels to keep ready for the steps still to come (at most one per worker)."""
        with self._lock:
            self._taken += 1
            remaining = max(0, self._expected - self._taken)
        return min(self.workers, remaining) if self.warm_kernels else 0

    def _execute(self, job: StepJob, km: AsyncKernelManager) -> StepOutcome:
        papermill = papermill_module()
        from papermill.exceptions import PapermillExecutionError

        report = Path(job.report_path).resolve()
        work_dir = Path(job.work_dir).resolve()
        report.parent.mkdir(parents=True, exist_ok=True)
        work_dir.mkdir(parents=True, exist_ok=True)
        report.unlink(missing_ok=True)  # nothing of an earlier run may pass for this one's
        (work_dir / OUTPUTS_FILE).unlink(missing_ok=True)
        parameters = {
            **job.params,
            "input_paths": dict(job.input_paths),
            "output_dir": str(work_dir),
        }
        try:
            papermill.execute_notebook(
                str(Path(job.notebook).resolve()),
                str(report),
                parameters=parameters,
                engine_name=PAPERMILL_ENGINE_NAME,
                kernel_name=self.kernel_name,
                progress_bar=False,
                log_output=False,
                km=km,
            )
        except PapermillExecutionError as exc:
            return StepOutcome(
                error=one_line(f"{exc.ename}: {exc.evalue}"),
                traceback=user_traceback_text(exc.traceback, job.pipeline_dir),
                report=report,
            )
        except Exception as exc:  # noqa: BLE001 - the kernel died, a timeout, a bad notebook
            return StepOutcome(
                error=one_line(f"{type(exc).__name__}: {exc}"),
                report=report if report.exists() else None,
            )
        return _collect_outputs(job, work_dir, report)


def _collect_outputs(job: StepJob, work_dir: Path, report: Path) -> StepOutcome:
    try:
        outputs = read_outputs(str(work_dir))
    except MlopsError as exc:
        return StepOutcome(error=f"{type(exc).__name__}: {exc}", report=report)
    missing = [name for name in job.outputs if name not in outputs]
    if missing:
        return StepOutcome(
            error=f"the step did not save its output(s) {', '.join(missing)}", report=report
        )
    return StepOutcome(outputs=outputs, report=report)


# -- papermill, imported once per process -------------------------------------------------


def start_papermill_import() -> None:
    """Import papermill in a background thread (once per process); returns at once."""
    if _imported is None and not _import_lock.locked():
        threading.Thread(target=papermill_module, name="import-papermill", daemon=True).start()


def papermill_module() -> ModuleType:
    """The papermill module, with this engine's nbclient engine registered; imports once."""
    global _imported
    if _imported is not None:
        return _imported
    with _import_lock:
        if _imported is None:
            papermill = _import_papermill()
            _register_pooled_engine()
            _imported = papermill
    return _imported


def _import_papermill() -> ModuleType:
    """``import papermill`` without the IRI grammar jsonschema builds when ``rfc3987_syntax``
    is installed (seconds of CPU, most of papermill's import; nbformat's schema has no IRI
    fields): that module is hidden while jsonschema is first imported, then importable again.
    """
    hide = "jsonschema" not in sys.modules and "rfc3987_syntax" not in sys.modules
    if hide:
        sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]
    try:
        import papermill
    finally:
        if hide and "rfc3987_syntax" in sys.modules and sys.modules["rfc3987_syntax"] is None:
            del sys.modules["rfc3987_syntax"]
    return papermill


def _register_pooled_engine() -> None:
    """Register papermill's nbclient engine variant that leaves a given kernel running.

    nbclient honours a started ``km``: it neither restarts nor shuts it down (it does not own
    it), but it also leaves its kernel client's channels open; this variant closes them.
    """
    from nbclient.util import run_hook, run_sync
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.utils import merge_kwargs, remove_args

    class PooledKernelClient(PapermillNotebookClient):  # type: ignore[misc]
        """Connects to the started kernel without ``wait_for_ready``'s 0.2 s IOPub polls."""

        async def async_start_new_kernel_client(self) -> Any:
            assert self.km is not None
            self.kc = self.km.client()
            self.kc.start_channels()
            try:
                await wait_for_iopub(self.kc, self.startup_timeout)
            except BaseException:
                self.kc.stop_channels()
                self.kc = None
                raise
            self.kc.allow_stdin = False
            await run_hook(self.on_notebook_start, notebook=self.nb)
            return self.kc

        start_new_kernel_client = run_sync(async_start_new_kernel_client)

    class PooledKernelEngine(NBClientEngine):
        """``NBClientEngine`` for a kernel the caller started (``km=``) and will shut down."""

        @classmethod
        def execute_managed_notebook(
            cls,
            nb_man: Any,
            kernel_name: str,
            log_output: bool = False,
            stdout_file: Any = None,
            stderr_file: Any = None,
            start_timeout: int = 60,
            execution_timeout: float | None = None,
            **kwargs: Any,
        ) -> Any:
            kwargs = remove_args(["input_path"], **kwargs)
            safe_kwargs = remove_args(["timeout", "startup_timeout"], **kwargs)
            final_kwargs = merge_kwargs(
                safe_kwargs,
                timeout=execution_timeout if execution_timeout else kwargs.get("timeout"),
                startup_timeout=start_timeout,
                kernel_name=kernel_name,
                log=_CLIENT_LOG,
                log_output=log_output,
                stdout_file=stdout_file,
                stderr_file=stderr_file,
            )
            client = PooledKernelClient(nb_man, **final_kwargs)
            try:
                return client.execute()
            finally:
                if client.kc is not None:
                    client.kc.stop_channels()
                    client.kc = None

    papermill_engines.register(PAPERMILL_ENGINE_NAME, PooledKernelEngine)


# -- errors ---------------------------------------------------------------------------------


def one_line(text: str) -> str:
    """The first non-empty line of ``text`` (an error message is one line)."""
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[0] if lines else text


def strip_ansi(text: str) -> str:
    """``text`` without ANSI colour and cursor codes."""
    return _ANSI.sub("", text)


def user_traceback_text(traceback: list[str], pipeline_dir: Path) -> str:
    """The kernel's traceback, uncoloured, keeping the frames of the pipeline's own code.

    IPython sends one string per frame (``File <path>:<line>, in <function>`` or
    ``Cell In[n], line <line>`` and the code around it). Frames outside ``pipeline_dir``
    (the notebook's glue cell, libraries, jupyter_mlops) are left out unless none is inside.
    A traceback of another shape is returned whole.
    """
    parts = [strip_ansi(part) for part in traceback]
    root = Path(pipeline_dir).resolve()
    kept: list[str] = []
    frames: list[str] = []
    user_frames = 0
    for part in parts:
        first = part.strip("\n").split("\n", 1)[0]
        if _RULE.match(first):
            continue
        if _HEADER.match(first):
            kept.append("Traceback (most recent call last):")
            continue
        frame = _FRAME.match(first)
        if frame is None:
            kept.append(part)
            continue
        frames.append(part)
        path = frame.group("path")
        if path is not None and _is_inside(path, root):
            user_frames += 1
            kept.append(part)
    if not frames:
        return "\n".join(parts).strip("\n")
    if not user_frames:
        return _all_frames(parts)
    return "\n".join(kept).strip("\n")


def _all_frames(parts: list[str]) -> str:
    """Every frame of an uncoloured IPython traceback, with a Python-style header."""
    out = []
    for part in parts:
        first = part.strip("\n").split("\n", 1)[0]
        if _RULE.match(first):
            continue
        out.append("Traceback (most recent call last):" if _HEADER.match(first) else part)
    return "\n".join(out).strip("\n")


def _is_inside(path: str, root: Path) -> bool:
    try:
        return Path(path).resolve().is_relative_to(root)
    except (OSError, ValueError):
        return False
