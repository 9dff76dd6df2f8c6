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

Loading is only safe for files jupyter_mlops wrote itself: the skops loader trusts every type
found in the file, and joblib and cloudpickle unpickle. The artifact store holds such trusted
content only; never point it at files from elsewhere.

Heavy libraries are imported inside the functions that use them. A value can only be a
DataFrame or an ndarray when pandas or numpy is already in ``sys.modules``, so matching
imports nothing.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
import threading
import types
import warnings
from typing import Any, Protocol, runtime_checkable

from jupyter_mlops.errors import ArtifactError

ENTRY_POINT_GROUP = "jupyter_mlops.serializers"

StrPath = str | os.PathLike[str]


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


# --- pandas -> parquet ----------------------------------------------------------------------

_PARQUET_META_KEY = b"jupyter_mlops"
_SERIES_COLUMN = "__jupyter_mlops_series__"
_LABEL_TYPES = (str, int, float, bool, type(None))


def _is_plain_label(label: Any) -> bool:
    return type(label) in _LABEL_TYPES


def _encode_columns(columns: Any) -> dict[str, Any]:
    """Column labels as JSON, for labels parquet cannot keep as they are."""
    import pandas as pd

    if not _is_plain_label(columns.name):
        raise ValueError(f"column index name {columns.name!r} is not str/int/float/bool/None")
    if type(columns) is pd.RangeIndex:
        return {"range": [columns.start, columns.stop, columns.step], "name": columns.name}
    if isinstance(columns, pd.MultiIndex):
        raise ValueError("MultiIndex columns are not supported by parquet")
    labels = columns.tolist()
    if not all(_is_plain_label(label) for label in labels):
        raise ValueError("column labels must be str/int/float/bool/None")
    return {"values": labels, "dtype": str(columns.dtype), "name": columns.name}


def _decode_columns(encoded: dict[str, Any]) -> Any:
    import pandas as pd

    if "range" in encoded:
        return pd.RangeIndex(*encoded["range"], name=encoded["name"])
    return pd.Index(encoded["values"], dtype=encoded["dtype"], name=encoded["name"])


def _has_plain_string_columns(frame: Any) -> bool:
    columns = frame.columns
    return (
        type(columns).__name__ == "Index"
        and columns.is_unique
        and all(type(label) is str for label in columns)
        and _SERIES_COLUMN not in columns
    )


_PARQUET_OBJECT_KINDS = {"bytes", "decimal"}
_SECONDS_UNIT = ("datetime64[s", "timedelta64[s")


def _dtype_to_restore(dtype: Any) -> str | None:
    """The dtype name to cast back to after parquet, for dtypes parquet stores differently."""
    name = str(dtype)
    if name.startswith(_SECONDS_UNIT):
        return name  # parquet has no seconds unit: read back as milliseconds
    if getattr(dtype, "storage", None) == "python" and name == "string":
        return "string[python]"  # read back as string[pyarrow]
    return None


def _check_object_values(label: Any, values: Any) -> None:
    """Raise for object data parquet would change (lists become arrays, strings become str)."""
    from pandas.api.types import infer_dtype

    if values.dtype == object:
        kind = infer_dtype(values, skipna=True)
        if kind not in _PARQUET_OBJECT_KINDS:
            raise ValueError(f"object data {label!r} holds {kind} values, changed by parquet")


def _prepare_frame(frame: Any) -> dict[str, Any]:
    """Check the frame suits parquet; the casts needed after reading it back."""
    for level in range(frame.index.nlevels):
        _check_object_values("index", frame.index.get_level_values(level))
    casts: dict[str, Any] = {}
    for position, (label, dtype) in enumerate(frame.dtypes.items()):
        _check_object_values(label, frame.iloc[:, position])
        if cast := _dtype_to_restore(dtype):
            casts[str(position)] = cast
    if frame.index.nlevels == 1 and (cast := _dtype_to_restore(frame.index.dtype)):
        casts["index"] = cast
    return casts


def _restore_dtypes(frame: Any, casts: dict[str, str]) -> None:
    for key, dtype in casts.items():
        if key == "index":
            frame.index = frame.index.astype(dtype)
        else:
            frame.isetitem(int(key), frame.iloc[:, int(key)].astype(dtype))


class ParquetSerializer:
    """pandas DataFrame/Series as parquet (pyarrow); extra labels kept in schema metadata.

    Frames parquet would change (object columns of lists, strings or mixed values, MultiIndex
    or datetime column labels) are refused, so they fall through to cloudpickle.
    """

    name = "parquet"
    extension = "parquet"

    def matches(self, value: Any) -> bool:
        pd = sys.modules.get("pandas")
        return pd is not None and type(value) in (pd.DataFrame, pd.Series)

    def dump(self, value: Any, path: StrPath) -> None:
        import pandas as pd
        import pyarrow as pa
        import pyarrow.parquet as pq

        extra: dict[str, Any] = {}
        frame = value
        if isinstance(value, pd.Series):
            if not _is_plain_label(value.name):
                raise ValueError(f"Series name {value.name!r} is not str/int/float/bool/None")
            extra["series_name"] = value.name
            frame = value.to_frame(name=_SERIES_COLUMN)
        elif not _has_plain_string_columns(frame):
            extra["columns"] = _encode_columns(frame.columns)
            frame = frame.set_axis([f"c{i}" for i in range(frame.shape[1])], axis=1)
        extra["casts"] = _prepare_frame(frame)
        with warnings.catch_warnings():
            # pyarrow reads tz-aware columns through Series.values, deprecated in pandas 3.1.
            warnings.filterwarnings("ignore", message="Series.values returning an ndarray")
            table = pa.Table.from_pandas(frame)
        metadata = dict(table.schema.metadata or {})
        metadata[_PARQUET_META_KEY] = json.dumps(extra).encode()
        pq.write_table(table.replace_schema_metadata(metadata), path)

    def load(self, path: StrPath) -> Any:
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        extra = json.loads((table.schema.metadata or {}).get(_PARQUET_META_KEY, b"{}"))
        frame = table.to_pandas()
        _restore_dtypes(frame, extra.get("casts", {}))
        if "series_name" in extra:
            series = frame[_SERIES_COLUMN]
            series.name = extra["series_name"]
            return series
        if "columns" in extra:
            frame.columns = _decode_columns(extra["columns"])
        return frame


# --- numpy -> npy ---------------------------------------------------------------------------


class NpySerializer:
    """numpy ndarrays without Python objects, via ``np.save(allow_pickle=False)``."""

    name = "npy"
    extension = "npy"

    def matches(self, value: Any) -> bool:
        np = sys.modules.get("numpy")
        return np is not None and type(value) is np.ndarray and not value.dtype.hasobject

    def dump(self, value: Any, path: StrPath) -> None:
        import numpy as np

        with open(path, "wb") as file:
            np.save(file, value, allow_pickle=False)

    def load(self, path: StrPath) -> Any:
        import numpy as np

        with open(path, "rb") as file:
            return np.load(file, allow_pickle=False)


# --- scikit-learn -> skops / joblib ---------------------------------------------------------


def _is_estimator(value: Any) -> bool:
    base = sys.modules.get("sklearn.base")
    return base is not None and isinstance(value, base.BaseEstimator)


def _is_local_name(qualified: str) -> bool:
    """True for names another process cannot import: ``__main__.*``, lambdas, nested."""
    return qualified.startswith("__main__.") or "<" in qualified


class _NullSink:
    def write(self, data: bytes) -> int:
        return len(data)


def _check_no_local_references(value: Any) -> None:
    """Raise when pickling ``value`` would refer to a function or class by a local name.

    Pickle stores functions and classes by name, so ones defined in ``__main__`` (a
    notebook) could not be loaded by another process; cloudpickle stores them by value.
    """
    import pickle

    class Finder(pickle.Pickler):
        def reducer_override(self, obj: Any) -> Any:
            if isinstance(obj, type | types.FunctionType):
                qualified = f"{obj.__module__}.{obj.__qualname__}"
                if _is_local_name(qualified):
                    raise ValueError(f"refers to {qualified}, defined in the notebook")
            return NotImplemented

    Finder(_NullSink()).dump(value)


class SkopsSerializer:
    """scikit-learn estimators in skops format.

    Loading trusts every type listed by ``skops.io.get_untrusted_types`` for the file: the
    store only holds files jupyter_mlops wrote itself. Estimators that use functions or
    classes defined in ``__main__`` are refused (skops stores them by name).
    """

    name = "skops"
    extension = "skops"

    def matches(self, value: Any) -> bool:
        return _is_estimator(value)

    def dump(self, value: Any, path: StrPath) -> None:
        import skops.io as sio

        sio.dump(value, path)
        local = [name for name in sio.get_untrusted_types(file=path) if _is_local_name(name)]
        if local:
            raise ValueError(f"refers to {', '.join(local)}, defined in the notebook")
        _canonical_skops(path)

    def load(self, path: StrPath) -> Any:
        import skops.io as sio

        return sio.load(path, trusted=sio.get_untrusted_types(file=path))


def _canonical_skops(path: StrPath) -> None:
    """Rewrite a skops file so equal models give equal bytes (equal content hashes).

    skops names objects by ``id()`` (the ``__id__`` fields and the ``<id>.npy`` array files)
    and zips them with the current time; renumber ids in document order, fix timestamps.
    """
    import zipfile

    with zipfile.ZipFile(path) as source:
        files = {info.filename: source.read(info) for info in source.infolist()}
    renumbered: dict[str, str] = {}

    def new_id(old: object) -> str:
        return renumbered.setdefault(str(old), str(len(renumbered) + 1))

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            out = {key: walk(value) for key, value in node.items()}
            if "__id__" in node:
                out["__id__"] = int(new_id(node["__id__"]))
            if isinstance(node.get("file"), str) and node["file"].endswith(".npy"):
                out["file"] = new_id(node["file"][: -len(".npy")]) + ".npy"
            return out
        if isinstance(node, list):
            return [walk(item) for item in node]
        return node

    schema = walk(json.loads(files.pop("schema.json")))
    renamed = {
        (new_id(name[: -len(".npy")]) + ".npy" if name.endswith(".npy") else name): data
        for name, data in files.items()
    }
    renamed["schema.json"] = json.dumps(schema, indent=2).encode()
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for name in sorted(renamed):
            target.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), renamed[name])


class JoblibSerializer:
    """scikit-learn estimators that skops cannot dump, via joblib (pickle).

    Estimators that use functions or classes defined in ``__main__`` are refused, so they
    fall through to cloudpickle.
    """

    name = "joblib"
    extension = "joblib"

    def matches(self, value: Any) -> bool:
        return _is_estimator(value)

    def dump(self, value: Any, path: StrPath) -> None:
        import joblib

        _check_no_local_references(value)
        joblib.dump(value, path)

    def load(self, path: StrPath) -> Any:
        import joblib

        return joblib.load(path)


# --- JSON -----------------------------------------------------------------------------------


def is_exact_json(value: Any) -> bool:
    """True when JSON gives the value back equal and with the same types.

    None, bool, int, str, finite floats, and lists and str-keyed dicts of these. Tuples,
    subclasses (numpy scalars, enums), NaN/inf and containers seen twice (shared or cyclic)
    are not.
    """
    seen: set[int] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind in (str, int, bool) or item is None:
            continue
        if kind is float:
            if not math.isfinite(item):
                return False
            continue
        if kind not in (list, dict) or id(item) in seen:
            return False
        seen.add(id(item))
        if kind is dict:
            if not all(type(key) is str for key in item):
                return False
            stack.extend(item.values())
        else:
            stack.extend(item)
    return True


class JsonSerializer:
    """Values for which :func:`is_exact_json` holds, as UTF-8 JSON."""

    name = "json"
    extension = "json"

    def matches(self, value: Any) -> bool:
        return is_exact_json(value)

    def dump(self, value: Any, path: StrPath) -> None:
        text = json.dumps(value, allow_nan=False, ensure_ascii=False)
        with open(path, "wb") as file:
            file.write(text.encode("utf-8"))

    def load(self, path: StrPath) -> Any:
        with open(path, "rb") as file:
            return json.loads(file.read().decode("utf-8"))


# --- cloudpickle ----------------------------------------------------------------------------


class CloudpickleSerializer:
    """Anything picklable by cloudpickle (lambdas, closures, tuples, custom classes)."""

    name = "cloudpickle"
    extension = "pkl"

    def matches(self, value: Any) -> bool:
        return True

    def dump(self, value: Any, path: StrPath) -> None:
        import cloudpickle

        with open(path, "wb") as file:
            cloudpickle.dump(value, file)

    def load(self, path: StrPath) -> Any:
        import cloudpickle

        with open(path, "rb") as file:
            return cloudpickle.load(file)


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
