"""Where a value holds NaN or inf: one walk used when fixtures are captured and when tested.

A location is the suffix that names the place inside the value: ``""`` for a number or a
1-D array/Series, ``"['col']"`` for a column of a DataFrame (``"['1']"``: column 1 of a 2-D
array), ``"['key']"`` / ``"[0]"`` for entries of dicts and lists, nested as deep as they go.
Only numeric data counts; whatever serializer stores the value, the walk is the same.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class NonFinite:
    """NaN and inf counts at one location; ``scalar`` when the location is a single number."""

    location: str
    nan: int
    inf: int
    scalar: bool = False


def non_finite_places(value: Any, location: str = "") -> list[NonFinite]:
    """Every location of ``value`` holding NaN or inf, with the counts."""
    module = type(value).__module__.partition(".")[0]
    if isinstance(value, bool) or value is None or isinstance(value, str | bytes):
        return []
    if isinstance(value, int | float) or (module == "numpy" and getattr(value, "ndim", 1) == 0):
        number = float(value)
        if math.isfinite(number):
            return []
        return [NonFinite(location, int(math.isnan(number)), int(math.isinf(number)), True)]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in non_finite_places(v, f"{location}[{k!r}]")]
    if isinstance(value, list | tuple):
        return [p for i, v in enumerate(value) for p in non_finite_places(v, f"{location}[{i}]")]
    if module == "pandas" and hasattr(value, "iloc"):
        frame = value.to_frame("") if not hasattr(value, "columns") else value
        return _frame_places(frame, location)
    if module == "numpy":
        import pandas as pd

        if value.ndim <= 1:
            return _frame_places(pd.DataFrame({"": value.reshape(-1)}), location)
        array = value.reshape(value.shape[0], -1)
        return _frame_places(pd.DataFrame(array), location, numbered=True)
    return []


def nan_locations(value: Any) -> list[str]:
    """The sorted locations where ``value`` holds NaN."""
    return sorted({place.location for place in non_finite_places(value) if place.nan})


def _frame_places(frame: Any, location: str, numbered: bool = False) -> list[NonFinite]:
    import numpy as np

    places = []
    numeric = frame.select_dtypes(include="number", exclude="complex")
    for index, column in enumerate(numeric.columns):
        values = numeric[column].to_numpy(dtype=float, na_value=np.nan)
        label = str(index) if numbered else str(column)
        infinite, missing = int(np.isinf(values).sum()), int(np.isnan(values).sum())
        if infinite or missing:
            where = location if label == "" else f"{location}[{label!r}]"
            places.append(NonFinite(where, missing, infinite))
    return places
