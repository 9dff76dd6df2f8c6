"""Artifact serializers: chosen by the value's type, looked up by name.

Built-ins, tried in this order:

- ``parquet``: pandas DataFrame and Series (index, dtypes, Series name, column labels kept);
- ``npy``: numpy arrays without Python objects (``allow_pickle=False``);
- ``skops``, then ``joblib``: scikit-learn estimators, Pipelines included;
- ``json``: values that come back equal and of the same types from JSON;
- ``cloudpickle``: anything else.

Third-party serializers registered under the entry-point group ``jupyter_mlops.serializers``
(an object or a class with ``name``, ``extension``, ``matches``, ``dump``, ``load``) are loaded
once, on the first lookup, and tried before the built-ins; one named like a built-in replaces it.

joblib and cloudpickle (and third-party serializers) may run code when loading: the artifact
store loads them only for objects sealed by this user's tool (``artifacts/trust.py``), and the
fixtures only from hash-pinned files. The skops loader accepts only scikit-learn, numpy and
scipy types unless its caller adds modules.

Heavy libraries are imported inside the functions that use them. A value can only be a
DataFrame or an ndarray when pandas or numpy is already in ``sys.modules``, so matching
imports nothing.
"""

from __future__ import annotations

import contextlib
import os
import threading
import warnings
from typing import Any, Protocol, runtime_checkable

from jupyter_mlops.artifacts.serializers.basic import (
    CloudpickleSerializer,
    JsonSerializer,
    NpySerializer,
    StrPath,
    is_exact_json,
)
from jupyter_mlops.artifacts.serializers.estimators import JoblibSerializer, SkopsSerializer
from jupyter_mlops.artifacts.serializers.frames import ParquetSerializer
from jupyter_mlops.errors import ArtifactError

ENTRY_POINT_GROUP = "jupyter_mlops.serializers"

__all__ = ["CloudpickleSerializer", "JoblibSerializer", "JsonSerializer", "NpySerializer"]
__all__ += ["ParquetSerializer", "Serializer", "SkopsSerializer", "is_exact_json"]


@runtime_checkable
class Serializer(Protocol):
    """What a serializer provides; ``extension`` has no leading dot."""

    name: str
    extension: str

    def matches(self, value: Any) -> bool: ...

    def dump(self, value: Any, path: StrPath) -> None: ...

    def load(self, path: StrPath) -> Any: ...


def type_name(value: Any) -> str:
    """The qualified name of the value's type, without ``builtins.``."""
    cls = type(value)
    if cls.__module__ == "builtins":
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


# --- registry -------------------------------------------------------------------------------


def _builtin_serializers() -> dict[str, Serializer]:
    builtins: list[Serializer] = [
        ParquetSerializer(),
        NpySerializer(),
        SkopsSerializer(),
        JoblibSerializer(),
        JsonSerializer(),
        CloudpickleSerializer(),
    ]
    return {serializer.name: serializer for serializer in builtins}


_lock = threading.RLock()
_builtins: dict[str, Serializer] = _builtin_serializers()
_plugins: dict[str, Serializer] = {}
_entry_points_loaded = False


def _load_entry_points() -> None:
    """Register the serializers of the entry-point group, once; broken ones warn and are skipped."""
    global _entry_points_loaded
    with _lock:
        if _entry_points_loaded:
            return
        from importlib.metadata import entry_points

        _entry_points_loaded = True
        for entry_point in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            try:
                loaded = entry_point.load()
                register_serializer(loaded() if isinstance(loaded, type) else loaded)
            except Exception as exc:
                warnings.warn(
                    f"jupyter_mlops: serializer entry point {entry_point.name!r} "
                    f"({entry_point.value}) cannot be loaded: {exc}",
                    stacklevel=2,
                )


def register_serializer(serializer: Serializer) -> None:
    """Add a serializer, tried before the built-ins and before those registered earlier.

    One with a taken name replaces the old one (a built-in included).
    """
    if not isinstance(serializer, Serializer):
        raise TypeError(
            f"{serializer!r} is not a serializer: it needs name, extension, matches, dump, load"
        )
    with _lock:
        _plugins.pop(serializer.name, None)
        _plugins[serializer.name] = serializer


def reload_serializers() -> None:
    """Forget registered serializers and read the entry points again on the next lookup."""
    global _entry_points_loaded
    with _lock:
        _plugins.clear()
        _entry_points_loaded = False


def all_serializers() -> list[Serializer]:
    """Every serializer in the order they are tried: registered ones, then built-ins."""
    _load_entry_points()
    with _lock:
        builtins = [s for name, s in _builtins.items() if name not in _plugins]
        return [*reversed(_plugins.values()), *builtins]


def get_serializer(name: str) -> Serializer:
    """The serializer called ``name``; ``ArtifactError`` when none is."""
    for serializer in all_serializers():
        if serializer.name == name:
            return serializer
    known = ", ".join(s.name for s in all_serializers())
    raise ArtifactError(
        f"no serializer named '{name}' (known: {known}); is the package providing it installed?"
    )


def serializer_for(value: Any) -> Serializer:
    """The first serializer whose ``matches`` accepts the value (cloudpickle at the latest)."""
    return next(s for s in all_serializers() if s.matches(value))


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.remove(path)


def dump(value: Any, stem: StrPath, *, name: str) -> tuple[Serializer, str]:
    """Write ``value`` to ``stem.<extension>`` with the first matching serializer that succeeds.

    A serializer that raises has its partial file removed and the next matching one is tried
    (skops falls back to joblib, an unsupported frame to cloudpickle). Returns the serializer
    used and the path written. ``ArtifactError`` naming ``name`` and the value's type when
    none succeeds.
    """
    failures: list[str] = []
    last: Exception | None = None
    for serializer in all_serializers():
        if not serializer.matches(value):
            continue
        path = f"{os.fspath(stem)}.{serializer.extension}"
        try:
            serializer.dump(value, path)
        except Exception as exc:
            _remove(path)
            failures.append(f"{serializer.name}: {type(exc).__name__}: {exc}")
            last = exc
            continue
        return serializer, path
    raise ArtifactError(
        f"cannot store '{name}' of type {type_name(value)}: no serializer could write it "
        f"({'; '.join(failures)})",
        name=name,
    ) from last
