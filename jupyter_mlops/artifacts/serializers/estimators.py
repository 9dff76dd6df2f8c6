"""scikit-learn estimators as skops files (deterministic bytes), joblib as the fallback."""

from __future__ import annotations

import json
import sys
import types
from typing import Any

from jupyter_mlops.artifacts.serializers.basic import StrPath
from jupyter_mlops.artifacts.trust import SAFE_MODULES, store_packages, untrusted_types


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

    Loading trusts only types from ``trust.SAFE_MODULES`` (scikit-learn, numpy, scipy);
    ``load_trusting`` adds the modules the caller decides (the pipeline's own packages, for
    objects this tool sealed). A file holding any other type is refused, naming the types.
    Dump refuses (so joblib, sealed by the store, takes over) estimators using functions or
    classes defined in ``__main__`` (skops stores them by name) or types from other modules
    than those and the packages of the pipeline whose store the file is written into.
    """

    name = "skops"
    extension = "skops"

    def matches(self, value: Any) -> bool:
        return _is_estimator(value)

    def dump(self, value: Any, path: StrPath) -> None:
        import skops.io as sio

        sio.dump(value, path)
        found = sio.get_untrusted_types(file=path)
        local = [name for name in found if _is_local_name(name)]
        if local:
            raise ValueError(f"refers to {', '.join(local)}, defined in the notebook")
        other = untrusted_types(found, SAFE_MODULES | store_packages(path))
        if other:
            raise ValueError(f"holds {', '.join(other)}, which skops loads are not allowed")
        _canonical_skops(path)

    def load(self, path: StrPath) -> Any:
        return self.load_trusting(path, SAFE_MODULES)

    def load_trusting(self, path: StrPath, modules: frozenset[str]) -> Any:
        """Load ``path`` when every type skops does not trust by default comes from one of
        ``modules`` (top-level names); ``ValueError`` naming the other types otherwise."""
        import skops.io as sio

        with open(path, "rb") as file:
            data = file.read()
        found = sio.get_untrusted_types(data=data)
        refused = untrusted_types(found, modules)
        if refused:
            raise ValueError(
                f"skops file holds types outside {', '.join(sorted(modules))}: "
                f"{', '.join(refused)}; not loaded"
            )
        return sio.loads(data, trusted=found)


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
