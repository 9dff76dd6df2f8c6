"""The ``dask`` executor: each step is a task on a Dask cluster's worker.

``--scheduler tcp://HOST:PORT`` connects to a running cluster; without it a ``LocalCluster``
(worker processes on 127.0.0.1, one thread each, one worker per ``--workers``, default one
per CPU) is started for the run. What a worker does is in ``dask_task.py``. Without
``--store`` the workers use the pipeline's own folder and ``.mlops`` store, so they must see
it (this machine, or a shared file system); with ``--store URL`` they share that store, and
the outputs of each step are copied from it into the local store, where the cache, the
records and the gates read them, as after a local run.

A worker that dies while running a step makes the scheduler run it on another worker (Dask
gives up after ``distributed.scheduler.allowed-failures`` deaths, 3 by default); a step that
fails in user code returns its error like locally and is not retried. A step's resources
(``resources.py``) become the task's Dask resources. ``close`` (end of the run, or Ctrl-C)
cancels the tasks still running and closes the client and the cluster it started.
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
from concurrent.futures import CancelledError
from pathlib import Path
from typing import Any

from jupyter_mlops.artifacts.shared_store import adopt_object
from jupyter_mlops.artifacts.store import ArtifactRef, ArtifactStore
from jupyter_mlops.errors import ExecutorError
from jupyter_mlops.execute.engines.base import StepJob, StepOutcome
from jupyter_mlops.execute.executors.base import ExecutorSettings
from jupyter_mlops.execute.executors.dask_task import (
    Package,
    StepTask,
    read_package,
    run_step_task,
    stop_steps,
    warm_up,
)

CONNECT_TIMEOUT = "10s"


class DaskExecutor:
    """Sends steps to a Dask cluster; made per run, closed at its end."""

    name = "dask"

    def __init__(self, settings: ExecutorSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._client: Any = None
        self._cluster: Any = None
        self._package: Any = None  # the pipeline files' task (with --store)
        self._warm = False  # the workers were told to start their engines
        self._pipeline: tuple[str, str | None, str | None] | None = None  # for stop_steps
        self._futures: set[Any] = set()
        self._closed = False
        self._shared: Any = None
        if settings.store:
            from jupyter_mlops.artifacts.shared_store import open_shared_store

            self._shared = open_shared_store(settings.store)

    def prepare(
        self,
        jobs_expected: int,
        *,
        pipeline_dir: Path | str | None = None,
        store_root: Path | str | None = None,
    ) -> None:
        """Connect to the scheduler (or start a LocalCluster), with ``--store`` send the
        pipeline's files to the cluster once, and have every worker start its engine."""
        with self._lock:
            self._closed = False
            if self._client is None:
                self._client = self._connect()
            if self._warm or pipeline_dir is None or store_root is None:
                return
            self._warm = True
            where: Package | tuple[str, str] = (str(pipeline_dir), str(store_root))
            self._pipeline = (self.settings.engine, str(pipeline_dir), None)
            if self._shared is not None:
                where = read_package(Path(pipeline_dir))
                self._pipeline = (self.settings.engine, None, where.digest)
                # a task, not scattered data: a worker that dies holding it makes the scheduler
                # compute it again, where scattered data would be lost with its dependants
                self._package = self._client.submit(
                    _same, where, key=f"mlops-package-{uuid.uuid4().hex}"
                )
            # a worker that cannot warm up says why when its first step runs
            self._client.run(warm_up, self.settings.engine, where, on_error="ignore")

    def run(self, job: StepJob) -> StepOutcome:
        if self._closed:  # the run was interrupted: nothing more starts
            return StepOutcome(error="cancelled")
        if self._client is None:
            self.prepare(1, pipeline_dir=job.pipeline_dir, store_root=job.store_root)
        missing = self._missing_resources(job.resources)
        if missing:
            return StepOutcome(error=missing)
        future = None
        try:
            future = self._submit(job)
            result = future.result()
        except CancelledError:
            return StepOutcome(error="cancelled")
        except Exception as error:  # the worker died too often, or the task could not run
            return StepOutcome(error=_task_error(error))
        finally:
            with self._lock:
                self._futures.discard(future)
        return self._outcome(job, result)

    def close(self) -> None:
        """Cancel the tasks still running and end their steps on the workers (Ctrl-C), then
        close the client and the cluster."""
        with self._lock:
            self._closed = True
            futures, self._futures = list(self._futures), set()
            client, cluster = self._client, self._cluster
            self._client = self._cluster = self._package = None
            self._warm = False
        if client is not None:
            if futures:
                client.cancel(futures, force=True)
                if self._pipeline is not None:
                    client.run(stop_steps, *self._pipeline, on_error="ignore")
            client.close()
        if cluster is not None:
            cluster.close()

    def _connect(self) -> Any:
        from distributed import Client, LocalCluster

        scheduler = self.settings.scheduler
        if scheduler:
            try:
                return Client(scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False)
            except Exception as error:  # unreachable, refused, not a scheduler address
                reason = f"{type(error).__name__}: {error}".rstrip(": ")
                raise ExecutorError(
                    f"--scheduler {scheduler}: cannot connect ({reason})", name="--scheduler"
                ) from None
        try:
            self._cluster = LocalCluster(
                n_workers=self.settings.workers or os.cpu_count() or 1,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                resources=_machine_resources(),
                silence_logs=logging.CRITICAL,  # workers' complaints while the cluster closes
            )
        except Exception as error:  # e.g. a script's unguarded top level re-run by the workers
            raise ExecutorError(
                f"cannot start a local Dask cluster ({type(error).__name__}: {error}); a script "
                "that runs pipelines must guard its top level with if __name__ == '__main__'",
                name="--executor",
            ) from None
        return Client(self._cluster, set_as_default=False)

    def _submit(self, job: StepJob) -> Any:
        shared_folder = self._shared is None
        task = StepTask(
            step=job.step,
            cell=job.cell,
            module=job.module,
            notebook=os.path.relpath(job.notebook, job.pipeline_dir),
            params=dict(job.params),
            inputs={
                var: Path(path).name.partition(".")[0] for var, path in job.input_paths.items()
            },
            outputs=list(job.outputs),
            engine=self.settings.engine,
            store_url=None if shared_folder else self.settings.store,
            shared_folder=str(job.pipeline_dir) if shared_folder else None,
            shared_store=str(job.store_root) if shared_folder else None,
            work_dir=str(job.work_dir) if shared_folder else None,
        )
        with self._lock:
            if self._closed or self._client is None:
                raise CancelledError
            future = self._client.submit(
                run_step_task,
                task,
                self._package,
                key=f"mlops-{job.step}-{uuid.uuid4().hex}",
                pure=False,
                resources=job.resources or None,
            )
            self._futures.add(future)
        return future

    def _outcome(self, job: StepJob, result: dict[str, Any]) -> StepOutcome:
        """The worker's outcome; with ``--store``, its outputs copied into the local store
        and its report written where the runner expects it."""
        outcome = StepOutcome(
            outputs={n: ArtifactRef.from_dict(r) for n, r in result["outputs"].items()},
            seconds=float(result["seconds"]),
            error=result["error"],
            traceback=_here(result["traceback"], result["folder"], job.pipeline_dir),
        )
        report = result["report"]
        if isinstance(report, str):
            outcome.report = Path(report)
        elif isinstance(report, bytes):
            job.report_path.write_bytes(report)
            outcome.report = job.report_path
        if self._shared is not None:
            self._take_outputs(ArtifactStore(job.store_root), outcome, result.get("inline", {}))
        return outcome

    def _take_outputs(
        self, local: ArtifactStore, outcome: StepOutcome, inline: dict[str, tuple[bytes, bytes]]
    ) -> None:
        """Copy a step's outputs into the local store: the small ones from the task's result
        (verified like downloads), the others from the shared store."""
        for ref in outcome.outputs.values():
            if ref.hash not in inline or local.verify(ref.hash):
                self._shared.download(local, ref.hash)
                continue
            meta, data = inline[ref.hash]
            local.tmp_dir.mkdir(parents=True, exist_ok=True)
            tmp = local.tmp_dir / uuid.uuid4().hex
            try:
                tmp.write_bytes(data)
                adopt_object(local, ref.hash, meta, tmp, f"the result of step {ref.name}")
            finally:
                tmp.unlink(missing_ok=True)
            self._shared.copied_here(ref.hash)

    def _missing_resources(self, resources: dict[str, float]) -> str | None:
        """Why no worker of the cluster can run a step asking for ``resources`` (None: one can)."""
        if not resources:
            return None
        workers = self._client.scheduler_info()["workers"].values()
        offered = [dict(w.get("resources") or {}) for w in workers]
        if any(all(have.get(k, 0) >= v for k, v in resources.items()) for have in offered):
            return None
        asked = ",".join(f"{k}={v:g}" for k, v in sorted(resources.items()))
        have = "; ".join(
            ",".join(f"{k}={v:g}" for k, v in sorted(o.items())) or "none" for o in offered
        )
        return f"no worker of the cluster offers resources {asked} (workers offer: {have})"


def _here(traceback: str | None, worker_folder: str, folder: Path) -> str | None:
    """A worker's traceback naming the pipeline's files where the driver has them."""
    return traceback.replace(worker_folder, str(folder)) if traceback else traceback


def _same(package: Package) -> Package:
    return package


def _machine_resources() -> dict[str, float]:
    """What each LocalCluster worker declares: this machine's CPUs and memory."""
    import psutil

    return {"cpu": float(os.cpu_count() or 1), "memory": float(psutil.virtual_memory().total)}


def _task_error(error: BaseException) -> str:
    from distributed import KilledWorker

    if isinstance(error, KilledWorker):
        return f"the workers running it died too many times ({error})"
    return f"{type(error).__name__}: {error}"
