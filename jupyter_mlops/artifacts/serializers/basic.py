"""numpy arrays as npy, JSON-able values as json, anything else as cloudpickle."""

from __future__ import annotations

import json
import math
import os
import sys
from typing import Any

StrPath = str | os.PathLike[str]
"""A file path as the serializers accept it."""


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
