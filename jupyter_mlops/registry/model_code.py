"""The user's own code a model needs, carried inside the logged model.

A model can refer to functions and classes of the notebook or the pipeline: a
``GridSearchCV(refit=...)`` callable or a ``FunctionTransformer`` helper defined in a setup
cell, a custom estimator class, a lambda. In a notebook they live in ``__main__``; in a
pipeline run in the generated package (``<package>.common``, a step module), importable only
with the pipeline folder on ``sys.path``. Either way another process cannot import them by
name, so a model referring to them is pickled with cloudpickle, these modules registered
*by value*: the code travels inside the pickle and loading needs neither the notebook, the
pipeline folder nor jupyter_mlops (:func:`user_code`, :func:`pickled_by_value`).

The step's artifact in the store still refers to the pipeline's code by name (the
pipeline's workers import it); :func:`importable_package` makes it importable in the
registering process for as long as the model is loaded, saved and logged.

User code = a module whose top-level package is neither in the standard library nor
provided by (or named like) an installed distribution (``__main__``, the generated package, a ``helpers.py``
beside the notebook).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import importlib
import sys
import types
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from types import MappingProxyType
from typing import Any

MAIN = "__main__"
_MAX_ROUNDS = 10  # each round may find code that code pickled by value refers to


@dataclass
class ModelCode:
    """What pickling a model refers to: user modules (by value) and installed top-level
    packages (by reference; the loading environment needs them)."""

    user: list[str] = field(default_factory=list)
    installed: list[str] = field(default_factory=list)

    @property
    def by_value(self) -> list[str]:
        """User modules that must be registered for pickling by value (``__main__`` is
        always pickled by value by cloudpickle)."""
        return [name for name in self.user if name != MAIN]


@functools.cache
def top_level_distributions() -> Mapping[str, list[str]]:
    """Top-level import name -> the installed distributions providing it (read once)."""
    return metadata.packages_distributions()


def is_user_module(name: str) -> bool:
    """True for a module another environment cannot import unless it has the user's files:
    ``__main__``, or a top-level package neither in the stdlib nor installed."""
    top = name.partition(".")[0]
    if name == MAIN or top == MAIN:
        return True
    if not top or top in sys.stdlib_module_names or top == "builtins":
        return False
    return top not in top_level_distributions() and not _is_distribution(top)


@functools.cache
def _is_distribution(name: str) -> bool:
    """An installed distribution of that name (editable installs list no top-level names)."""
    try:
        metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return False
    return True


def user_code(model: Any) -> ModelCode:
    """The modules of every function and class pickling ``model`` refers to, code pickled by
    value included (found by pickling into nothing, registering the user modules found, and
    again until nothing new turns up)."""
    found = ModelCode()
    for _ in range(_MAX_ROUNDS):
        with pickled_by_value(found.by_value):
            modules = _referenced_modules(model)
        user = [m for m in modules if is_user_module(m)]
        tops = {m.partition(".")[0] for m in modules if m not in user}
        found.installed = sorted(t for t in tops if t and t not in sys.stdlib_module_names)
        new = [m for m in user if m not in found.user]
        if not new:
            break
        found.user += new
    return found


class _NullSink:
    def write(self, data: bytes) -> int:
        return len(data)


def _referenced_modules(value: Any) -> list[str]:
    """``__module__`` of every function and class cloudpickle meets pickling ``value``, and
    of the class of every object it meets."""
    import cloudpickle

    modules: list[str] = []

    class Recorder(cloudpickle.Pickler):  # type: ignore[misc,name-defined]
        def reducer_override(self, obj: Any) -> Any:
            for source in (obj, type(obj)):
                if isinstance(source, type | types.FunctionType | types.BuiltinFunctionType):
                    module = getattr(source, "__module__", None)
                    if isinstance(module, str) and module not in modules:
                        modules.append(module)
            return super().reducer_override(obj)

    # What cannot be pickled fails when the model is saved, with its reason.
    with contextlib.suppress(Exception):
        Recorder(_NullSink()).dump(value)
    return modules


@contextlib.contextmanager
def pickled_by_value(module_names: list[str]) -> Iterator[None]:
    """cloudpickle pickles the functions and classes of these modules (imported ones; others
    are skipped) by value while the block runs; registrations made before stay. Their
    references to ``jupyter_mlops.runtime`` are frozen meanwhile (:func:`run_parameters`)."""
    import cloudpickle

    registered: list[types.ModuleType] = []
    already = cloudpickle.list_registry_pickle_by_value()
    for name in module_names:
        module = sys.modules.get(name)
        if module is None or name in already or name == MAIN:
            continue
        cloudpickle.register_pickle_by_value(module)
        registered.append(module)
    try:
        with _runtime_frozen(registered):
            yield
    finally:
        for module in registered:
            with contextlib.suppress(ValueError):
                cloudpickle.unregister_pickle_by_value(module)


_parameters: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar(
    "run_parameters", default=MappingProxyType({})
)
FROZEN_RUNTIME_MODULE = "jupyter_mlops_frozen_parameters"  # never importable: pickled by value
_FROZEN_RUNTIME_SOURCE = """
import contextlib


def parameter(name, default):
    return VALUES.get(name, default)


def parameters(**values):
    return contextlib.nullcontext()
"""


@contextlib.contextmanager
def run_parameters(values: Mapping[str, Any]) -> Iterator[None]:
    """Models pickled in the block read ``values`` where the pipeline's setup code calls
    ``runtime.parameter(name, default)``: the values of the run that trained them."""
    token = _parameters.set(MappingProxyType(dict(values)))
    try:
        yield
    finally:
        _parameters.reset(token)


@contextlib.contextmanager
def _runtime_frozen(modules: list[types.ModuleType]) -> Iterator[None]:
    """In ``modules``, names bound to ``jupyter_mlops.runtime`` stand for a frozen stand-in
    while the block runs: its ``parameter()`` answers the run's values (:func:`run_parameters`),
    so the pickled code needs neither jupyter_mlops nor a step to read them."""
    runtime = sys.modules.get("jupyter_mlops.runtime")
    swapped = [
        (module, name)
        for module in modules
        for name, value in vars(module).items()
        if runtime is not None and value is runtime
    ]
    if not swapped:
        yield
        return
    frozen = _frozen_runtime(_parameters.get())
    for module, name in swapped:
        setattr(module, name, frozen)
    try:
        yield
    finally:
        for module, name in swapped:
            setattr(module, name, runtime)


def _frozen_runtime(values: Mapping[str, Any]) -> types.SimpleNamespace:
    namespace: dict[str, Any] = {"__name__": FROZEN_RUNTIME_MODULE, "VALUES": dict(values)}
    exec(_FROZEN_RUNTIME_SOURCE, namespace)  # noqa: S102 — our constant source
    return types.SimpleNamespace(
        parameter=namespace["parameter"], parameters=namespace["parameters"]
    )


@contextlib.contextmanager
def importable_package(folder: str | Path, package: str) -> Iterator[None]:
    """Make the pipeline package ``package`` (in ``folder``) importable while the block runs,
    imported fresh from its files: modules of that name imported before are set aside and
    put back afterwards, the ones imported inside are dropped (a kernel running pipelines
    through the API keeps no stale copy of the generated code)."""

    def ours(name: str) -> bool:
        return name == package or name.startswith(package + ".")

    saved = {name: module for name, module in sys.modules.items() if ours(name)}
    for name in saved:
        del sys.modules[name]
    entry = str(folder)
    sys.path.insert(0, entry)
    importlib.invalidate_caches()
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(entry)
        for name in [name for name in sys.modules if ours(name)]:
            del sys.modules[name]
        sys.modules.update(saved)
