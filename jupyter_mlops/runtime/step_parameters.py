"""Pipeline parameters as setup code reads them: the values of the step that calls it.

In a notebook a setup function reads a parameter such as ``threshold`` as a global. An
extracted pipeline never assigns globals of ``common.py`` (steps may run at the same time in
threads of one process, e.g. on a Dask worker): a generated step function runs its cell inside
``with parameters(threshold=threshold):``, and each setup function reading the parameter
starts with ``threshold = parameter("threshold", <default>)``. The values live in a
``ContextVar``, so every thread (and asyncio task) sees the values of its own step.

A thread that the step itself starts (a thread pool) has no values of its own; it sees the
value that every step running in this process agrees on (there is usually one), the
notebook's default when no step passes one, and an error when running steps disagree.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType
from typing import Any

_EMPTY: Mapping[str, Any] = MappingProxyType({})
_values: ContextVar[Mapping[str, Any]] = ContextVar("jupyter_mlops_parameters", default=_EMPTY)
_running: list[Mapping[str, Any]] = []  # the values of every parameters() block in this process
_lock = threading.Lock()


@contextmanager
def parameters(**values: Any) -> Iterator[None]:
    """Within the block, :func:`parameter` reads ``values`` (in this thread or task only)."""
    current = MappingProxyType({**_values.get(), **values})
    token = _values.set(current)
    with _lock:
        _running.append(current)
    try:
        yield
    finally:
        with _lock:
            del _running[next(i for i, v in enumerate(_running) if v is current)]
        _values.reset(token)


def parameter(name: str, default: Any) -> Any:
    """The value of parameter ``name`` for the calling step; ``default`` outside any step."""
    values = _values.get()
    if name in values:
        return values[name]
    with _lock:
        passed = [block[name] for block in _running if name in block]
    if not passed:
        return default
    if any(repr(value) != repr(passed[0]) for value in passed[1:]):
        raise RuntimeError(
            f"parameter '{name}' is read in a thread without values of its own (a thread pool "
            f"a step started?) while steps with different values of it run in this process: "
            f"call the setup code that reads '{name}' from the step's own thread"
        )
    return passed[0]
