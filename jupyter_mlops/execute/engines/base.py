"""Engines decide how one step runs; they are looked up by name (entry points may add more).

Every engine takes a StepJob and returns a StepOutcome with the same artifacts and the
same error shape, so the executor, cache and records never care which engine ran a step.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import time
import traceback
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

from jupyter_mlops.artifacts.store import ArtifactRef
from jupyter_mlops.errors import EngineError, MlopsError
from jupyter_mlops.pipeline.pipeline_file import read_pipeline_file

ENTRY_POINT_GROUP = "jupyter_mlops.engines"


class Closable(Protocol):
    def close(self) -> None: ...


_unclosed: weakref.WeakSet[Any] = weakref.WeakSet()


def close_at_exit(resource: Closable) -> None:
    """Close ``resource`` at interpreter exit unless ``closed_already`` was called for it."""
    _unclosed.add(resource)


def closed_already(resource: Closable) -> None:
    """``resource`` was closed: nothing to do for it at exit."""
    _unclosed.discard(resource)


@atexit.register
def _close_unclosed() -> None:
    """At interpreter exit, stop the processes of pools (kernels, templates) nobody closed."""
    for resource in list(_unclosed):
        with contextlib.suppress(Exception):
            resource.close()


@dataclass(frozen=True)
class StepJob:
    """Everything needed to run one step, independent of the engine.

    ``input_paths`` maps each input variable to its artifact object file; outputs go to
    the content-addressed store at ``store_root`` and their refs are returned.
    """

    pipeline_dir: Path
    step: str
    cell: int
    module: str  # dotted, importable with pipeline_dir on sys.path
    notebook: Path  # the generated step notebook
    params: dict[str, Any]
    input_paths: dict[str, str]
    outputs: list[str]
    store_root: Path
    work_dir: Path  # scratch folder of this step execution (outputs.json, logs)
    report_path: Path  # where an engine that makes a report (executed notebook) puts it
    resources: dict[str, float] = field(default_factory=dict)  # what a cluster worker needs


@dataclass
class StepOutcome:
    """What running one step gave: output refs, or an error with the user's traceback."""

    outputs: dict[str, ArtifactRef] = field(default_factory=dict)
    seconds: float = 0.0
    error: str | None = None
    traceback: str | None = None
    report: Path | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class Engine(Protocol):
    """Runs one step. ``prepare`` is called once per run, before the first step runs, with
    the number of steps that may still run and the run's folders (for warm-up)."""

    name: str

    def prepare(
        self,
        jobs_expected: int,
        *,
        pipeline_dir: Path | str | None = None,
        store_root: Path | str | None = None,
    ) -> None: ...

    def run(self, job: StepJob) -> StepOutcome: ...

    def close(self) -> None: ...


_FACTORIES: dict[str, Callable[[int], Engine]] = {}
_BUILTIN = {
    "inprocess": "jupyter_mlops.execute.engines.inprocess:InProcessEngine",
    "papermill": "jupyter_mlops.execute.engines.papermill:PapermillEngine",
}


def register_engine(name: str, factory: Callable[[int], Engine]) -> None:
    """Make ``factory(workers)`` available as engine ``name``."""
    _FACTORIES[name] = factory


def get_engine(name: str, workers: int) -> Engine:
    """A new engine instance by name (built-ins: ``papermill``, ``inprocess``)."""
    if name not in _FACTORIES:
        _load_engine(name)
    return _FACTORIES[name](workers)


def check_engine_name(name: str) -> None:
    """Raise ``EngineError`` naming the available engines unless ``name`` is one; imports
    no engine."""
    if name in _BUILTIN or name in _FACTORIES:
        return
    plugins = [e.name for e in metadata.entry_points(group=ENTRY_POINT_GROUP)]
    if name not in plugins:
        known = ", ".join(sorted({*_BUILTIN, *_FACTORIES, *plugins}))
        raise EngineError(f"unknown engine '{name}' (available: {known})", name=name)


def _load_engine(name: str) -> None:
    check_engine_name(name)
    if name in _BUILTIN:
        module, _, attribute = _BUILTIN[name].partition(":")
        _FACTORIES[name] = getattr(importlib.import_module(module), attribute)
        return
    for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if entry.name == name:
            _FACTORIES[name] = entry.load()
            return


def user_traceback(error: BaseException, user_files: set[str]) -> str:
    """The traceback of ``error`` keeping only frames in the user's code (step and setup)."""
    frames = [
        frame for frame in traceback.extract_tb(error.__traceback__) if frame.filename in user_files
    ]
    lines = ["Traceback (most recent call last):\n", *traceback.format_list(frames)]
    lines += traceback.format_exception_only(type(error), error)
    return "".join(lines).rstrip("\n")


class Stopwatch:
    """Wall time since creation, in seconds."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    def seconds(self) -> float:
        return time.perf_counter() - self.start


def setup_libraries(pipeline_dir: Path) -> list[str]:
    """The libraries the pipeline's setup code imports (``common.py``), which engines import
    ahead of the steps: the in-process engine's template, the papermill engine's warm kernels.

    Only installed libraries: the pipeline's own modules are imported fresh by every step, so
    a re-extracted ``common.py`` is never served stale.
    """
    import ast

    try:
        pipeline_file = read_pipeline_file(pipeline_dir)
        source = (pipeline_dir / pipeline_file.package / "common.py").read_text(encoding="utf-8")
        tree = ast.parse(source)
    except (MlopsError, OSError, SyntaxError, ValueError):
        return []
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    local = {pipeline_file.package, "jupyter_mlops"}
    return sorted(
        {n for n in names if n.split(".")[0] not in local and _installed(n, pipeline_dir)}
    )


def format_modules(pipeline_dir: Path) -> tuple[list[str], list[str]]:
    """The artifact formats' modules that the pipeline's values likely need, as (import
    before the first step, import while no step waits): parquet when the setup code or a
    step imports pandas or scikit-learn, skops when one imports scikit-learn. A step that
    needs another imports it itself, as ever; this only decides what is imported ahead."""
    import ast

    names = set(setup_libraries(pipeline_dir))
    with contextlib.suppress(MlopsError, OSError, SyntaxError, ValueError):
        for step in read_pipeline_file(pipeline_dir).pipeline.steps:
            for node in ast.walk(ast.parse("\n".join(step.imports))):
                if isinstance(node, ast.Import):
                    names.update(alias.name for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names.add(node.module)
    roots = {name.split(".")[0] for name in names}
    first = ["pyarrow.parquet"] if roots & {"pandas", "sklearn"} else []
    return first, ["skops.io"] if "sklearn" in roots else []


def setup_module(pipeline_dir: Path) -> str | None:
    """The dotted name of the pipeline's setup module (``<package>.common``), if it has one."""
    try:
        pipeline_file = read_pipeline_file(pipeline_dir)
    except MlopsError:
        return None
    if not (pipeline_dir / pipeline_file.package / "common.py").is_file():
        return None
    return f"{pipeline_file.package}.common"


def _installed(module: str, pipeline_dir: Path) -> bool:
    """Whether ``module`` is importable here from outside the pipeline folder (a library)."""
    import importlib.util

    try:
        spec = importlib.util.find_spec(module.split(".")[0])
    except (ImportError, ValueError):
        return False
    origin = Path(spec.origin) if spec is not None and spec.origin else None
    return origin is not None and pipeline_dir.resolve() not in origin.resolve().parents
