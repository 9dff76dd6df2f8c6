"""Drift of each column of the current data against the reference, with Evidently's defaults.

Column kind: a numeric column (not bool) whose reference and current data together hold more
than 5 distinct values is ``numeric``; any other column is ``categorical`` when it holds more
than 2 distinct values, else ``binary``. Test (when ``monitor:`` forces none):

============  ===========================  ==========================
kind          reference ≤ 1,000 rows        reference > 1,000 rows
============  ===========================  ==========================
numeric       ks (p < 0.05)                 wasserstein (norm. ≥ 0.1)
categorical   chi2 (p < 0.05)               jensenshannon (≥ 0.1)
binary        z (p < 0.05)                  jensenshannon (≥ 0.1)
============  ===========================  ==========================

"Reference rows" is ``reference_rows`` when given (the real size of a sampled reference), else
the rows passed. A test forced for every column (``monitor.stattest``) applies where it fits
the column's kind (ks/wasserstein only to numeric columns); forced for one column it must fit.
chi2 is the test of homogeneity of the 2×k table of counts (scipy's chi2_contingency), not
Evidently's goodness of fit to the reference proportions, which takes a small reference's
sampling noise for drift. PSI is always reported (``psi_bins`` equal-width bins over both samples' range for numeric
columns, one bin per category otherwise). Missing and non-finite values are dropped; their
share of the current rows is reported as ``missing``. The dataset drifts when the share of
drifted columns is ≥ ``drift_share``; columns are measured in a small thread pool (numpy's
sorts release the GIL).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from jupyter_mlops.errors import MonitorDataError
from jupyter_mlops.monitor import stattests
from jupyter_mlops.monitor.settings import DEFAULT_THRESHOLDS, P_VALUE_TESTS, MonitorSettings

NUMERIC_MIN_DISTINCT = 6  # Evidently: a numeric column with <= 5 values is compared as categories
NUMERIC_TESTS = frozenset({"ks", "wasserstein"})
MAX_THREADS = 8


@dataclass(frozen=True)
class ColumnDrift:
    """One column's drift: the test, its statistic and p-value, the verdict, and PSI."""

    column: str
    kind: str
    test: str
    statistic: float
    p_value: float | None
    threshold: float
    drifted: bool
    psi: float
    missing: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """The JSON form; an infinite statistic (a category the reference never had) is null."""
        return {
            "column": self.column,
            "kind": self.kind,
            "test": self.test,
            "statistic": _finite_or_none(self.statistic),
            "p_value": _finite_or_none(self.p_value),
            "threshold": self.threshold,
            "drifted": self.drifted,
            "psi": _finite_or_none(self.psi),
            "missing": self.missing,
        }


@dataclass(frozen=True)
class DatasetDrift:
    """Every column's drift and whether the share of drifted columns reaches ``drift_share``."""

    columns: list[ColumnDrift]
    share: float
    drifted: bool
    drift_share: float = 0.5

    def to_json(self) -> dict[str, Any]:
        """``{"share", "drifted", "drift_share", "columns": [...]}``."""
        return {
            "share": self.share,
            "drifted": self.drifted,
            "drift_share": self.drift_share,
            "columns": [column.to_json() for column in self.columns],
        }


@dataclass(frozen=True)
class _Sample:
    """A column's values prepared once: sorted finite floats, or category counts."""

    kind: str
    reference: Any  # sorted float64 (numeric data) or category counts
    current: Any
    numeric: bool
    missing: float


def column_drift(
    column: str,
    reference: Any,
    current: Any,
    settings: MonitorSettings,
    reference_rows: int | None = None,
) -> ColumnDrift:
    """Drift of one column; ``reference``/``current`` are 1-D arrays or pandas Series."""
    sample = _prepare(column, reference, current, settings)
    rows = len(reference) if reference_rows is None else reference_rows
    test = _select_test(column, sample.kind, settings, rows)
    own = settings.column(column)
    threshold = own.threshold
    if threshold is None and own.stattest is None and settings.stattest == test:
        threshold = settings.stattest_threshold
    if threshold is None:
        threshold = DEFAULT_THRESHOLDS[test]
    statistic, p_value = _measure(test, sample, settings)
    if test in P_VALUE_TESTS:
        drifted = p_value is not None and p_value < threshold
    else:
        drifted = statistic >= threshold
    return ColumnDrift(
        column=column,
        kind=sample.kind,
        test=test,
        statistic=statistic,
        p_value=p_value,
        threshold=threshold,
        drifted=bool(drifted),
        psi=_measure("psi", sample, settings)[0],
        missing=sample.missing,
    )


def dataset_drift(
    reference: Any,
    current: Any,
    settings: MonitorSettings,
    columns: list[str] | None = None,
    reference_rows: int | None = None,
) -> DatasetDrift:
    """Drift of every column of ``columns`` (default: the reference's) between two DataFrames."""
    from concurrent.futures import ThreadPoolExecutor

    names = [str(name) for name in (reference.columns if columns is None else columns)]
    for name in names:
        for side, frame in (("reference", reference), ("current", current)):
            if name not in frame.columns:
                raise MonitorDataError(f"column '{name}' is not in the {side} data", name=name)

    def measure(name: str) -> ColumnDrift:
        return column_drift(name, reference[name], current[name], settings, reference_rows)

    threads = min(_threads(settings), max(len(names), 1))
    if threads <= 1:
        results = [measure(name) for name in names]
    else:
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="drift") as pool:
            results = list(pool.map(measure, names))
    drifted = sum(result.drifted for result in results)
    share = drifted / len(results) if results else 0.0
    return DatasetDrift(
        columns=results,
        share=share,
        drifted=bool(results) and share >= settings.drift_share,
        drift_share=settings.drift_share,
    )


def _threads(settings: MonitorSettings) -> int:
    import os

    return settings.threads or min(os.cpu_count() or 1, MAX_THREADS)


def _prepare(column: str, reference: Any, current: Any, settings: MonitorSettings) -> _Sample:

    ref, cur = _values(reference), _values(current)
    if len(cur) == 0:
        raise MonitorDataError(f"column '{column}' has no rows in the current data", name=column)
    kind = settings.column(column).kind
    if _is_numeric(ref) and _is_numeric(cur):
        ref_sorted, cur_sorted = stattests.sorted_finite(ref), stattests.sorted_finite(cur)
        _require_values(column, ref_sorted, cur_sorted)
        missing = 1.0 - len(cur_sorted) / len(cur)
        distinct = _distinct_at_least(ref_sorted, cur_sorted, NUMERIC_MIN_DISTINCT)
        kind = kind or ("numeric" if distinct >= NUMERIC_MIN_DISTINCT else _discrete_kind(distinct))
        sample = _Sample(kind, ref_sorted, cur_sorted, True, missing)
        return sample if kind == "numeric" else _as_counts(sample)
    if kind == "numeric":
        raise MonitorDataError(
            f"column '{column}' is set to kind numeric but holds non-numeric values",
            name=f"monitor.columns.{column}.kind",
        )
    categories, ref_counts, cur_counts = stattests.category_counts(ref, cur)
    _require_values(column, ref_counts, cur_counts, counts=True)
    missing = 1.0 - float(cur_counts.sum()) / len(cur)
    return _Sample(kind or _discrete_kind(len(categories)), ref_counts, cur_counts, False, missing)


def _values(data: Any) -> Any:
    """A numpy array: float64 (missing as NaN) for a numeric pandas column, objects for others."""
    import numpy as np

    dtype = getattr(data, "dtype", None)
    if dtype is None or not hasattr(data, "to_numpy"):
        return np.asarray(data)
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    if isinstance(dtype, np.dtype) and dtype.kind in "iuf":
        return data.to_numpy()  # a view: no copy of a large column
    if is_numeric_dtype(dtype) and not is_bool_dtype(dtype):
        return data.to_numpy(dtype=np.float64, na_value=np.nan)
    return data.to_numpy(dtype=object)


def _is_numeric(values: Any) -> bool:

    return values.dtype.kind in "iuf"  # bool ("b") and objects are categories


def _discrete_kind(distinct: int) -> str:
    return "categorical" if distinct > 2 else "binary"


def _require_values(column: str, reference: Any, current: Any, counts: bool = False) -> None:
    for side, values in (("reference", reference), ("current", current)):
        empty = values.sum() == 0 if counts else len(values) == 0
        if empty:
            raise MonitorDataError(
                f"column '{column}' has no values in the {side} data", name=column
            )


def _distinct_at_least(ref_sorted: Any, cur_sorted: Any, limit: int) -> int:
    """The number of distinct values of both samples, counted exactly only below ``limit``."""
    import numpy as np

    for values in (ref_sorted, cur_sorted):
        if np.count_nonzero(values[1:] != values[:-1]) + 1 >= limit:
            return limit
    return len(np.union1d(np.unique(ref_sorted), np.unique(cur_sorted)))


def _sorted_counts(values_sorted: Any, categories: Any) -> Any:
    import numpy as np

    left = np.searchsorted(values_sorted, categories, side="left")
    right = np.searchsorted(values_sorted, categories, side="right")
    return (right - left).astype(np.float64)


def _select_test(column: str, kind: str, settings: MonitorSettings, reference_rows: int) -> str:
    own = settings.column(column).stattest
    if own is not None:
        if own in NUMERIC_TESTS and kind != "numeric":
            raise MonitorDataError(
                f"column '{column}' is {kind}: stattest {own} needs a numeric column",
                name=f"monitor.columns.{column}.stattest",
            )
        return own
    forced = settings.stattest
    if forced is not None and (kind == "numeric" or forced not in NUMERIC_TESTS):
        return forced
    small = reference_rows <= settings.small_reference_rows
    if kind == "numeric":
        return "ks" if small else "wasserstein"
    if not small:
        return "jensenshannon"
    return "chi2" if kind == "categorical" else "z"


def _measure(test: str, sample: _Sample, settings: MonitorSettings) -> tuple[float, float | None]:
    ref, cur = sample.reference, sample.current
    if sample.numeric:
        if test == "ks":
            return stattests.ks(ref, cur)
        if test == "wasserstein":
            return stattests.normalized_wasserstein(ref, cur, _std(ref)), None
        bins = settings.psi_bins if test == "psi" else stattests.sturges_bins(len(ref) + len(cur))
        if test in ("psi", "jensenshannon"):
            edges = stattests.bin_edges(ref, cur, bins)
            return _distance(
                test, stattests.bin_fractions(ref, edges), stattests.bin_fractions(cur, edges)
            ), None
        return _measure(test, _as_counts(sample), settings)
    if test == "chi2":
        return stattests.chi2(ref, cur)
    if test == "z":
        return stattests.z_test(ref, cur)
    return _distance(test, ref / ref.sum(), cur / cur.sum()), None


def _as_counts(sample: _Sample) -> _Sample:
    import numpy as np

    categories = np.union1d(np.unique(sample.reference), np.unique(sample.current))
    ref, cur = (
        _sorted_counts(sample.reference, categories),
        _sorted_counts(sample.current, categories),
    )
    return _Sample(sample.kind, ref, cur, False, sample.missing)


def _distance(test: str, reference_fractions: Any, current_fractions: Any) -> float:
    if test == "psi":
        return stattests.psi(reference_fractions, current_fractions)
    return stattests.jensenshannon(reference_fractions, current_fractions)


def _std(values: Any) -> float:
    import numpy as np

    return float(np.std(values))


def _finite_or_none(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None
