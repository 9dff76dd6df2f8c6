"""scikit-learn estimators as skops files (deterministic bytes), joblib as the fallback."""

from __future__ import annotations

import json
import sys
import types
from typing import Any

from jupyter_mlops.artifacts.serializers.basic import StrPath


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
