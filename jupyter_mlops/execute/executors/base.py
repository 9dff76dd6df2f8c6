"""Executors decide where steps run; they are looked up by name (entry points may add more).

``local`` runs each step with the engine on this machine (the thread pool of ``threads.py``
keeps up to ``--workers`` steps in flight); ``dask`` sends each step to a Dask cluster. An
executor is used like an engine (``prepare``, ``run(job)``, ``close``), so the runner, the
cache and the after-run chain never care where a step ran.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from jupyter_mlops.errors import ExecutorError
from jupyter_mlops.execute.engines.base import Engine, StepJob, StepOutcome

ENTRY_POINT_GROUP = "jupyter_mlops.executors"


@dataclass(frozen=True)
class ExecutorSettings:
    """What ``jupyter mlops run`` says about where steps run."""

    engine: str = "papermill"
    workers: int = 0  # 0: one per CPU (local); as many as the steps (dask)
    scheduler: str | None = None  # dask: tcp://HOST:PORT; None: a LocalCluster
    store: str | None = None  # the shared store's URL (--store)


class LocalExecutor:
    """Today's behaviour: the engine runs every step on this machine."""

    name = "local"

    def __init__(self, settings: ExecutorSettings) -> None:
        self.engine: Engine = get_engine_for(settings)

    def prepare(
        self,
        jobs_expected: int,
        *,
        pipeline_dir: Path | str | None = None,
        store_root: Path | str | None = None,
    ) -> None:
        self.engine.prepare(jobs_expected, pipeline_dir=pipeline_dir, store_root=store_root)

    def run(self, job: StepJob) -> StepOutcome:
        return self.engine.run(job)

    def close(self) -> None:
        self.engine.close()


def get_engine_for(settings: ExecutorSettings) -> Engine:
    """The engine of ``settings`` with its worker count (0: one per CPU)."""
    from jupyter_mlops.execute.engines.base import get_engine

    return get_engine(settings.engine, settings.workers or os.cpu_count() or 1)


_FACTORIES: dict[str, Callable[[ExecutorSettings], Engine]] = {
    "local": LocalExecutor,
}
_BUILTIN = {"dask": "jupyter_mlops.execute.executors.dask_executor:DaskExecutor"}
_HEAVY_IMPORTS = {"dask": "distributed"}  # ~1 s: imported while the run reads its pipeline
_preloading: set[str] = set()


def preload_executor(name: str) -> threading.Thread | None:
    """Import what executor ``name`` needs in a daemon thread, while the run reads its
    pipeline and cache (a failure is reported when the executor starts)."""
    module = _HEAVY_IMPORTS.get(name)
    if module is None or module in _preloading:
        return None
    _preloading.add(module)

    def load() -> None:
        with contextlib.suppress(Exception):
            importlib.import_module(module)

    thread = threading.Thread(target=load, name=f"mlops-{name}-import", daemon=True)
    thread.start()
    return thread


def get_executor(name: str, settings: ExecutorSettings) -> Engine:
    """A new executor by name (built-ins: ``local``, ``dask``)."""
    check_executor(name, settings)
    if name not in _FACTORIES:
        if name in _BUILTIN:
            module, _, attribute = _BUILTIN[name].partition(":")
            _FACTORIES[name] = getattr(importlib.import_module(module), attribute)
        else:
            entry = next(e for e in _entry_points() if e.name == name)
            _FACTORIES[name] = entry.load()
    return _FACTORIES[name](settings)


def check_executor(name: str, settings: ExecutorSettings) -> None:
    """Refuse an unknown executor (naming the available ones) and ``--scheduler`` without
    ``--executor dask``; imports no executor."""
    if name not in _FACTORIES and name not in _BUILTIN:
        plugins = [e.name for e in _entry_points()]
        if name not in plugins:
            known = ", ".join(sorted({*_FACTORIES, *_BUILTIN, *plugins}))
            raise ExecutorError(f"unknown executor '{name}' (available: {known})", name=name)
    if settings.scheduler and name == "local":
        raise ExecutorError(
            "--scheduler needs --executor dask (the local executor has no scheduler)",
            name="--scheduler",
        )


def parallel_steps(name: str, settings: ExecutorSettings, steps: int) -> int:
    """How many steps the runner keeps in flight: ``--workers`` (default: one per CPU)
    locally; on a cluster (default: every step that is ready), its scheduler decides."""
    if settings.workers:
        return settings.workers
    return os.cpu_count() or 1 if name == "local" else max(1, steps)


def _entry_points() -> list[metadata.EntryPoint]:
    return list(metadata.entry_points(group=ENTRY_POINT_GROUP))
