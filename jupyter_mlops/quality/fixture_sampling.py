"""Which rows of a run's large inputs become test fixtures.

Inputs with the same number of rows form a group and share one selection of row positions
(so ``X_train`` and ``y_train`` stay aligned). The selection is seeded and, when the group
holds an obvious label, stratified by it: a Series or 1-D array named like ``y``/``target``/
``label`` (``y_train`` too), else a ``target``/``label`` column of a DataFrame. Every class
is kept (up to the row budget), the rest in proportion; numeric labels with many distinct
values are stratified by quantile bins.
"""

from __future__ import annotations

import re
from typing import Any

from jupyter_mlops.artifacts.store import ArtifactRef

SEED = 0
LABEL_NAME = re.compile(r"^(y|target|targets|label|labels|class|outcome)(_\w*)?$", re.IGNORECASE)
LABEL_COLUMNS = ("target", "label", "labels", "class", "y", "outcome")
MAX_CLASSES = 20  # more distinct numeric values than this: stratify by quantile bins
QUANTILE_BINS = 10

Selection = tuple[Any, Any, str]  # (value, row positions kept, how they were chosen)


def value_module(value: Any) -> str:
    return type(value).__module__.partition(".")[0]


def row_count(value: Any) -> int | None:
    """Rows of a DataFrame, Series or array with at least one dimension; None otherwise."""
    if value_module(value) == "pandas" and hasattr(value, "iloc"):
        return len(value)
    if value_module(value) == "numpy" and getattr(value, "ndim", 0) >= 1:
        return int(value.shape[0])
    return None


def ref_rows(ref: ArtifactRef) -> int | None:
    """Rows of a stored DataFrame, Series or array (from its summary); None for other values."""
    shape = ref.summary.get("shape")
    return int(shape[0]) if isinstance(shape, list) and shape else None


def row_selections(values: dict[str, Any], max_rows: int) -> dict[str, Selection]:
    """For each row-like value over ``max_rows``: (value, positions kept, how chosen).

    Values with equal row counts form a group that shares one selection.
    """
    groups: dict[int, list[str]] = {}
    for key in sorted(values):
        rows = row_count(values[key])
        if rows is not None and rows > max_rows:
            groups.setdefault(rows, []).append(key)
    selections: dict[str, Selection] = {}
    for rows, keys in groups.items():
        label = find_label({key: values[key] for key in keys})
        if label is None:
            positions, how = sample_positions(rows, max_rows, None), "random rows"
        else:
            positions, how = sample_positions(rows, max_rows, label[1]), f"stratified by {label[0]}"
        for key in keys:
            others = [k for k in keys if k != key]
            same = f", same rows as {', '.join(others)}" if others else ""
            selections[key] = (values[key], positions, how + same)
    return selections


def find_label(values: dict[str, Any]) -> tuple[str, Any] | None:
    """(description, labels) of the first obvious label among same-length values, or None."""
    for key, value in values.items():
        name = key.partition(".")[2]
        one_dimensional = (value_module(value) == "pandas" and not hasattr(value, "columns")) or (
            value_module(value) == "numpy" and value.ndim == 1
        )
        series_name = str(getattr(value, "name", "") or "")
        if one_dimensional and (LABEL_NAME.match(name) or series_name.lower() in LABEL_COLUMNS):
            return key, value
    for key, value in values.items():
        if value_module(value) == "pandas" and hasattr(value, "columns"):
            for column in value.columns:
                if str(column).lower() in LABEL_COLUMNS:
                    return f"{key}[{column!r}]", value[column]
    return None


def sample_positions(rows: int, keep: int, labels: Any) -> Any:
    """``keep`` sorted row positions out of ``rows``, seeded; stratified when ``labels`` given.

    Stratified: every class is represented (up to ``keep`` classes) and the rest are taken
    in proportion to class sizes. Numeric labels with many values are binned by quantile.
    """
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(SEED)
    if labels is None:
        return np.sort(rng.choice(rows, size=keep, replace=False))
    codes = _strata(labels)
    order = rng.permutation(rows)
    permuted = codes[order]
    within = pd.Series(permuted).groupby(permuted).cumcount().to_numpy()
    rank = within / np.bincount(permuted)[permuted]
    chosen = order[np.argsort(rank, kind="stable")[:keep]]
    return np.sort(chosen)


def _strata(labels: Any) -> Any:
    """Integer stratum codes 0..k-1 for each label (quantile bins for continuous ones)."""
    import numpy as np
    import pandas as pd

    series = pd.Series(np.asarray(labels)).reset_index(drop=True)
    if pd.api.types.is_numeric_dtype(series) and series.nunique() > MAX_CLASSES:
        ranks = series.rank(method="first")
        series = pd.Series(pd.qcut(ranks, QUANTILE_BINS, labels=False, duplicates="drop"))
    codes, _ = pd.factorize(series, use_na_sentinel=False)
    return np.asarray(codes, dtype=np.int64)
