"""Which data a step's model was really trained or scored on: the step's data lineage.

The generated tests call the model step's function on its fixtures and keep the function's
final local variables. Among those locals and the step's inputs, a 2-D value is a candidate
``X`` when it has the columns (``feature_names_in_``) or the number of features
(``n_features_in_``) the fitted model expects (for a model exposing neither, any 2-D value
its ``predict`` takes); a frame holding the model's columns and more
gives ``X`` from those columns and a label column for ``y``. A candidate ``y`` is 1-D, has
as many rows as ``X`` (the same index for pandas values) and, for a classifier, only known
classes. Held-out data (a name with ``test``/``val``/``holdout``/``eval``) comes first.
When the step's inputs and locals hold no 2-D data at all (the step only assembles a
model), the check looks at the fixtures of the steps upstream (``runtime.testing``).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jupyter_mlops.quality.fixture_sampling import LABEL_COLUMNS, LABEL_NAME, value_module

HELD_OUT = re.compile(r"test|val|holdout|hold_out|eval", re.IGNORECASE)


@dataclass(frozen=True)
class ModelData:
    """An (X, y) pair the model accepts; ``description`` names where it came from."""

    X: Any
    y: Any
    description: str
    held_out: bool


def call_keeping_locals(
    function: Callable[..., Any], arguments: dict[str, Any]
) -> tuple[Any, dict[str, Any]]:
    """``function(**arguments)`` and its local variables when it returned.

    A profile hook on this thread sees the function's frame return; the previous hook is
    restored afterwards, also when the function raises."""
    code = function.__code__
    kept: dict[str, Any] = {}

    def keep_locals(frame: Any, event: str, _arg: Any) -> None:
        if event == "return" and frame.f_code is code:
            kept.update(frame.f_locals)

    previous = sys.getprofile()
    sys.setprofile(keep_locals)
    try:
        returned = function(**arguments)
    finally:
        sys.setprofile(previous)
    return returned, kept


def expected_features(model: Any) -> tuple[int | None, list[str] | None]:
    """(number of features, feature names) the fitted model expects; None where unknown."""
    names = getattr(model, "feature_names_in_", None)
    count = getattr(model, "n_features_in_", None)
    return (int(count) if count is not None else None), (
        [str(n) for n in names] if names is not None else None
    )


def model_data(model: Any, values: dict[str, Any]) -> ModelData | None:
    """The best (X, y) among ``values`` that the model accepts, held-out first; else None."""
    count, names = expected_features(model)
    pairs = [
        pair
        for name in sorted(values)
        if values[name] is not model
        for pair in _pairs(name, values[name], values, model, count, names)
    ]
    if count is None and names is None:  # a model that does not say: one that predicts on it
        pairs = [pair for pair in pairs if _predicts_on(model, pair.X)]
    pairs.sort(key=lambda pair: (not pair.held_out, pair.description))
    return pairs[0] if pairs else None


def _pairs(
    name: str,
    value: Any,
    values: dict[str, Any],
    model: Any,
    count: int | None,
    names: list[str] | None,
) -> list[ModelData]:
    """The (X, y) pairs with ``X`` taken from ``value``."""
    X, extra = features_of(value, count, names)
    if X is None:
        return []
    labels = {f"{name}[{c!r}]": value[c] for c in extra if str(c).lower() in LABEL_COLUMNS}
    labels |= {other: v for other, v in values.items() if _ndim(v) == 1 and other != name}
    found = []
    for label, y in sorted(labels.items(), key=lambda item: not LABEL_NAME.match(item[0])):
        if _aligned(X, y) and _known_classes(model, y):
            where = f"({name}, {label})"
            held_out = bool(HELD_OUT.search(name) or HELD_OUT.search(label))
            found.append(ModelData(X, y, where, held_out))
            break
    return found


def features_of(value: Any, count: int | None, names: list[str] | None) -> tuple[Any, list[Any]]:
    """(X, the frame's other columns) when ``value`` holds the features a model expects.

    ``count`` and ``names`` are what :func:`expected_features` gives. A frame holding every
    named column gives those columns (in the model's order); an array, or a frame for a model
    that names no features, is taken when its column count is ``count`` (or ``count`` is
    unknown). ``(None, [])`` when ``value`` does not fit.
    """
    if _ndim(value) != 2:
        return None, []
    columns = getattr(value, "columns", None)
    if names is not None and columns is not None:
        by_name = {str(c): c for c in columns}
        if not set(names) <= set(by_name):
            return None, []
        chosen = [by_name[n] for n in names]
        return value[chosen], [c for c in columns if str(c) not in names]
    if count is None or value.shape[1] == count:
        return value, []
    return None, []


def holds_data(values: dict[str, Any]) -> bool:
    """Whether any of ``values`` is a 2-D frame or array."""
    return any(_ndim(value) == 2 for value in values.values())


def _predicts_on(model: Any, X: Any) -> bool:
    """Whether ``model.predict`` takes the first row of ``X``."""
    try:
        model.predict(X[:1] if not hasattr(X, "iloc") else X.iloc[:1])
    except Exception:  # noqa: BLE001 — any failure means the model does not take this data
        return False
    return True


def _aligned(X: Any, y: Any) -> bool:
    if len(y) != len(X) or len(X) == 0:
        return False
    if value_module(X) == "pandas" and value_module(y) == "pandas":
        return bool(X.index.equals(y.index))
    return True


def _known_classes(model: Any, y: Any) -> bool:
    """For a classifier: ``y`` holds only classes the model knows (anything for a regressor)."""
    from sklearn.base import is_classifier

    classes = getattr(model, "classes_", None)
    if not is_classifier(model) or classes is None:
        return True
    import numpy as np

    try:
        return bool(np.isin(np.asarray(y), np.asarray(classes)).all())
    except TypeError:
        return False


def _ndim(value: Any) -> int:
    if value_module(value) not in ("pandas", "numpy"):
        return 0
    return int(getattr(value, "ndim", 0))
