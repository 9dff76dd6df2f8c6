"""What a Dask worker runs for one step: the engine, on this worker's machine.

Two ways to reach the pipeline and the store:

- *shared folder* (no ``--store``): the workers see the driver's pipeline folder and its
  ``.mlops`` store (same machine, or a shared file system); the step runs there, as locally.
- *shared store* (``--store URL``): the pipeline folder's files come with the task (scattered
  once per run) and are written to a folder of this machine named by their digest; inputs are
  copied from the shared store into that folder's ``.mlops``, the step runs, and its outputs
  are uploaded before the task returns.

Engines are kept per worker process and engine name, so every step after the first finds
its template warm. The task returns a plain dict (``outcome_to_dict``) for the driver.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
import threading
import uuid
from collections import Counter, OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jupyter_mlops.artifacts.store import ArtifactStore
from jupyter_mlops.execute.engines.base import Engine, StepJob, StepOutcome, get_engine

if TYPE_CHECKING:
    from jupyter_mlops.artifacts.shared_store import SharedStore

PACKAGE_SKIPPED = {".mlops", "__pycache__", ".ipynb_checkpoints", ".git"}


@dataclass(frozen=True)
class Package:
    """A pipeline folder's files (relative path → bytes) and their digest."""

    digest: str
    files: dict[str, bytes]


@dataclass(frozen=True)
class StepTask:
    """One step for a worker; paths are relative to the pipeline folder unless shared."""

    step: str
    cell: int
    module: str
    notebook: str  # relative to the pipeline folder
    params: dict[str, Any]
    inputs: dict[str, str]  # variable → object hash
    outputs: list[str]
    engine: str
    store_url: str | None = None  # None: the shared folder below
    shared_folder: str | None = None
    shared_store: str | None = None
    work_dir: str | None = None  # shared folder only: the driver's scratch folder of the step


def read_package(folder: Path) -> Package:
    """The files of ``folder`` a worker needs (not the store, caches or hidden folders)."""
    files: dict[str, bytes] = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if path.is_file() and not any(
            part in PACKAGE_SKIPPED or part.startswith(".") for part in relative.parts
        ):
            files[relative.as_posix()] = path.read_bytes()
    digest = hashlib.sha256()
    for name, data in files.items():
        digest.update(f"{name}\0{len(data)}\0".encode())
        digest.update(data)
    return Package(digest.hexdigest(), files)


INLINE_BYTES = 1 << 20  # outputs this small also travel back in the task's result
MAX_WARM_PIPELINES = 4  # engines (warm templates) a worker process keeps, per pipeline folder

_lock = threading.Lock()
_engines: OrderedDict[tuple[str, str], Engine] = OrderedDict()  # least recently used first
_busy: Counter[tuple[str, str]] = Counter()
_shared_stores: dict[str, SharedStore] = {}


def warm_up(engine: str, where: Package | tuple[str, str]) -> None:
    """Start this worker's engine for a pipeline (a shared (folder, store), or a package)
    while the driver looks the steps up in the cache; run by ``Client.run``."""
    if isinstance(where, Package):
        folder = materialize(where)
        store = ArtifactStore.for_pipeline(folder)
    else:
        folder, store = Path(where[0]), ArtifactStore(where[1])
    with _engine(engine, folder, store):
        pass


def stop_steps(engine: str, folder: str | None, digest: str | None) -> None:
    """End the steps of a pipeline (its shared folder, or its package's digest) running on
    this worker, whose run was interrupted: close its engine; run by ``Client.run``."""
    key = (engine, folder or str(package_folder(digest or "")))
    with _lock:
        stopped = _engines.pop(key, None)
    if stopped is not None:
        stopped.close()


def run_step_task(task: StepTask, package: Package | None) -> dict[str, Any]:
    """Run ``task`` on this worker; the outcome as a dict (``outcome_to_dict``)."""
    if task.shared_folder is not None and task.shared_store is not None:
        folder, store = Path(task.shared_folder), ArtifactStore(task.shared_store)
        work_dir = Path(task.work_dir or store.root / "runs" / "dask" / task.step)
        outcome = _run(task, folder, store, work_dir)
        return outcome_to_dict(outcome, str(outcome.report) if outcome.report else None, folder)
    assert package is not None and task.store_url is not None
    shared = _shared_store(task.store_url)
    folder = materialize(package)
    store = ArtifactStore.for_pipeline(folder)
    for digest in task.inputs.values():
        shared.download(store, digest)
    work_dir = store.root / "runs" / "dask" / f"{task.step}-{uuid.uuid4().hex[:8]}"
    try:
        outcome = _run(task, folder, store, work_dir)
        for ref in outcome.outputs.values():
            shared.upload(store, ref.hash)
        report = outcome.report
        result = outcome_to_dict(
            outcome, report.read_bytes() if report and report.is_file() else None, folder
        )
        result["inline"] = small_objects(store, outcome)
        return result
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)


def _run(task: StepTask, folder: Path, store: ArtifactStore, work_dir: Path) -> StepOutcome:
    work_dir.mkdir(parents=True, exist_ok=True)
    job = StepJob(
        pipeline_dir=folder,
        step=task.step,
        cell=task.cell,
        module=task.module,
        notebook=folder / task.notebook,
        params=task.params,
        input_paths={var: str(store.path_of(digest)) for var, digest in task.inputs.items()},
        outputs=list(task.outputs),
        store_root=Path(store.root).resolve(),
        work_dir=work_dir.resolve(),
        report_path=(work_dir / f"{task.step}.ipynb").resolve(),
    )
    with _engine(task.engine, folder, store) as engine:
        return engine.run(job)


@contextlib.contextmanager
def _engine(name: str, folder: Path, store: ArtifactStore) -> Iterator[Engine]:
    """This process's engine ``name`` for ``folder``, started on first use and kept warm;
    beyond ``MAX_WARM_PIPELINES``, the least recently used idle ones are closed."""
    key = (name, str(folder))
    with _lock:
        engine = _engines.pop(key, None)
        if engine is None:
            engine = get_engine(name, _worker_threads())
            engine.prepare(1, pipeline_dir=folder, store_root=Path(store.root).resolve())
        _engines[key] = engine
        _busy[key] += 1
        idle = [k for k in _engines if not _busy[k] and k != key]
        evicted = [_engines.pop(k) for k in idle[: max(0, len(_engines) - MAX_WARM_PIPELINES)]]
    for old in evicted:
        old.close()
    try:
        yield engine
    finally:
        with _lock:
            _busy[key] -= 1


def _shared_store(url: str) -> SharedStore:
    """The shared store at ``url``, opened once per worker process."""
    from jupyter_mlops.artifacts.shared_store import open_shared_store

    with _lock:
        if url not in _shared_stores:
            _shared_stores[url] = open_shared_store(url)
        return _shared_stores[url]


def _worker_threads() -> int:
    try:
        from distributed import get_worker

        return int(get_worker().state.nthreads)
    except (ImportError, ValueError, AttributeError):
        return 1


def package_folder(digest: str) -> Path:
    """Where this machine keeps the files of the package with ``digest``."""
    return Path(tempfile.gettempdir()) / f"jupyter-mlops-dask-{os.getuid()}" / digest[:24]


def materialize(package: Package) -> Path:
    """The folder holding ``package``'s files on this machine, written once per digest."""
    folder = package_folder(package.digest)
    root = folder.parent
    if (folder / ".mlops-package-complete").is_file():
        return folder
    staging = root / f".{package.digest[:24]}-{uuid.uuid4().hex}"
    for name, data in package.files.items():
        path = staging / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (staging / ".mlops-package-complete").write_text(package.digest)
    try:
        os.rename(staging, folder)
    except OSError:  # another worker process of this machine was first
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def small_objects(store: ArtifactStore, outcome: StepOutcome) -> dict[str, tuple[bytes, bytes]]:
    """Hash → (meta, object) bytes of the outputs up to ``INLINE_BYTES``: the driver takes
    them from the task's result instead of downloading them from the shared store."""
    small: dict[str, tuple[bytes, bytes]] = {}
    for ref in outcome.outputs.values():
        path = store.path_of(ref.hash)
        if path.stat().st_size <= INLINE_BYTES:
            small[ref.hash] = (store.meta_path(ref.hash).read_bytes(), path.read_bytes())
    return small


def outcome_to_dict(
    outcome: StepOutcome, report: str | bytes | None, folder: Path
) -> dict[str, Any]:
    """A step outcome as plain data (refs as dicts; the report: its path in a shared folder,
    else its bytes; the pipeline folder the step ran in, which its traceback names)."""
    return {
        "outputs": {name: ref.to_dict() for name, ref in outcome.outputs.items()},
        "seconds": outcome.seconds,
        "error": outcome.error,
        "traceback": outcome.traceback,
        "report": report,
        "folder": str(folder),
    }
