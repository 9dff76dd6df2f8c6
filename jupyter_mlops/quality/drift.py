"""Value drift of a DataFrame against reference statistics: PSI per column, KS for numbers.

Reference statistics (:func:`reference_stats`, stored beside the schema as
``schemas/<step>.<name>.stats.json``) keep, per column:

* numeric (not bool): the unique percentiles 0, 1, …, 100 of the finite values, the reference
  CDF at each, the decile edges and the fraction of rows in each decile bin, and the fraction
  of missing or non-finite values;
* categorical (bool, category, low-cardinality strings — see ``schemas.category_values``): the
  fraction of rows per value (at most ``MAX_TRACKED_CATEGORIES``, the rest pooled as
  "other") and the missing fraction. Other columns (datetimes, free text) are not tracked.

PSI = Σ (cur − ref) · ln(cur / ref) over the bins (plus a missing-value bin), with fractions
floored at ``PSI_FLOOR``. KS is the largest gap between the current and reference CDFs on the
reference percentile grid (a lower bound of the exact two-sample statistic); its p-value is
the asymptotic Kolmogorov one with n = n_cur·n_ref/(n_cur+n_ref). Columns of more than
``sample_rows`` rows are measured on a seeded random sample of that size.

numpy/pandas/scipy are imported inside functions: the runner imports this module cheaply.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from jupyter_mlops.errors import DriftConfigError

STATS_VERSION = 1
PERCENTILES = 101
MAX_TRACKED_CATEGORIES = 50
PSI_FLOOR = 1e-4
OTHER = "__other__"
ACTIONS = ("warn", "fail", "off")
METRIC_PREFIX = "drift."


@dataclass(frozen=True)
class DriftSettings:
    """The ``drift:`` section of pipeline.yaml."""

    psi_threshold: float = 0.2
    ks_pvalue: float | None = None  # also flag numeric columns whose KS p-value is below this
    action: str = "warn"  # warn | fail | off
    sample_rows: int = 100_000


def drift_settings(raw: Any, path: str = "pipeline.yaml") -> DriftSettings:
    """Parse ``drift:`` of the pipeline.yaml at ``path`` — absent, ``warn``/``fail``/``off``,
    or a mapping of the fields; a malformed one is a ``DriftConfigError`` naming the field."""
    try:
        return _settings(raw)
    except DriftConfigError as error:
        raise DriftConfigError(error.message, name=error.name, path=path) from None


def _settings(raw: Any) -> DriftSettings:
    if raw is None:
        return DriftSettings()
    if isinstance(raw, bool):
        return DriftSettings(action="warn" if raw else "off")
    if isinstance(raw, str):
        if raw not in ACTIONS:
            raise _bad("drift", f"must be one of {', '.join(ACTIONS)} or a mapping, not {raw!r}")
        return DriftSettings(action=raw)
    if not isinstance(raw, dict):
        raise _bad("drift", f"must be one of {', '.join(ACTIONS)} or a mapping")
    unknown = set(raw) - {"psi_threshold", "ks_pvalue", "action", "sample_rows"}
    if unknown:
        raise _bad(f"drift.{sorted(map(str, unknown))[0]}", "is not a drift setting")
    action = raw.get("action", "warn")
    if action is False:  # YAML 1.1 reads a bare `off` as false
        action = "off"
    if action not in ACTIONS:
        raise _bad("drift.action", f"must be one of {', '.join(ACTIONS)}, not {action!r}")
    return DriftSettings(
        psi_threshold=_number(raw, "psi_threshold", 0.2, low=0.0),
        ks_pvalue=_number(raw, "ks_pvalue", None, low=0.0, high=1.0),
        action=action,
        sample_rows=int(_number(raw, "sample_rows", 100_000, low=1.0)),
    )


def _number(raw: dict[str, Any], key: str, default: Any, low: float, high: float = math.inf) -> Any:
    value = raw.get(key, default)
    if value is None and default is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise _bad(f"drift.{key}", f"must be a number in [{low:g}, {high:g}], not {value!r}")
    return float(value)


def _bad(field_name: str, problem: str) -> DriftConfigError:
    return DriftConfigError(f"field '{field_name}' {problem}", name=field_name)


# --- reference statistics -------------------------------------------------------------------


def reference_stats(frame: Any, categorical: Collection[str]) -> dict[str, Any]:
    """Statistics of ``frame`` to compare later data with; ``categorical`` names the columns
    tracked by value frequencies (the other numeric columns are tracked by quantiles)."""
    columns: dict[str, Any] = {}
    for column in frame.columns:
        series = frame[column]
        if column in categorical:
            columns[column] = _categorical_stats(series)
        elif _is_numeric(series):
            columns[column] = _numeric_stats(series)
    return {"version": STATS_VERSION, "rows": len(frame), "columns": columns}


def _is_numeric(series: Any) -> bool:
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    return bool(is_numeric_dtype(series.dtype) and not is_bool_dtype(series.dtype))


def _floats(series: Any) -> Any:
    import numpy as np

    return series.to_numpy(dtype=np.float64, na_value=np.nan)


def _numeric_stats(series: Any) -> dict[str, Any]:
    import numpy as np

    values = _floats(series)
    finite = np.sort(values[np.isfinite(values)])
    rows = max(len(values), 1)
    if not len(finite):
        return {"kind": "numeric", "count": 0, "missing": 1.0}
    percentiles = np.quantile(finite, np.linspace(0.0, 1.0, PERCENTILES))
    quantiles = np.unique(percentiles)
    edges = np.unique(percentiles[10:100:10])
    cdf = np.searchsorted(finite, quantiles, side="right") / len(finite)
    below = np.searchsorted(finite, edges, side="right")
    bins = np.diff(np.concatenate([[0], below, [len(finite)]])) / rows
    return {
        "kind": "numeric",
        "count": len(finite),
        "missing": 1.0 - len(finite) / rows,
        "quantiles": quantiles.tolist(),
        "cdf": cdf.tolist(),
        "bin_edges": edges.tolist(),
        "bin_fractions": bins.tolist(),
    }


def _categorical_stats(series: Any) -> dict[str, Any]:
    counts = series.value_counts(dropna=True)
    rows = max(len(series), 1)
    top = counts.iloc[:MAX_TRACKED_CATEGORIES]
    return {
        "kind": "categorical",
        "count": int(counts.sum()),
        "missing": float(series.isna().sum()) / rows,
        "frequencies": {str(k): int(v) / rows for k, v in top.items()},
        "other": float(counts.iloc[MAX_TRACKED_CATEGORIES:].sum()) / rows,
    }


# --- drift ----------------------------------------------------------------------------------


@dataclass
class ColumnDrift:
    """Drift of one column: PSI, and for numeric columns the KS statistic and p-value."""

    column: str
    kind: str
    psi: float
    ks: float | None = None
    ks_pvalue: float | None = None

    def describe(self) -> str:
        """E.g. ``column 'x': PSI 0.53 (KS 0.31, p 2.1e-09)``."""
        text = f"column '{self.column}': PSI {self.psi:.3f}"
        if self.ks is not None:
            text += f" (KS {self.ks:.3f}, p {self.ks_pvalue:.2g})"
        return text


@dataclass
class DriftReport:
    """Drift of one artifact versus its reference statistics."""

    artifact: str
    rows: int
    sampled: int
    settings: DriftSettings
    columns: list[ColumnDrift] = field(default_factory=list)

    def drifted(self) -> list[ColumnDrift]:
        """Columns above the PSI threshold (or below the KS p-value limit when one is set)."""
        limit = self.settings.ks_pvalue
        return [
            c
            for c in self.columns
            if c.psi > self.settings.psi_threshold
            or (limit is not None and c.ks_pvalue is not None and c.ks_pvalue < limit)
        ]

    def metrics(self, name: str) -> dict[str, float]:
        """``drift.<name>.<column>.psi|ks|ks_pvalue`` and ``drift.<name>.psi_max``."""
        out: dict[str, float] = {}
        for c in self.columns:
            key = f"{METRIC_PREFIX}{name}.{c.column}"
            out[f"{key}.psi"] = c.psi
            if c.ks is not None and c.ks_pvalue is not None:
                out[f"{key}.ks"] = c.ks
                out[f"{key}.ks_pvalue"] = c.ks_pvalue
        if self.columns:
            out[f"{METRIC_PREFIX}{name}.psi_max"] = max(c.psi for c in self.columns)
        return out

    def summary(self) -> str:
        """One line: the drifted columns, worst first."""
        worst = sorted(self.drifted(), key=lambda c: -c.psi)
        columns = "; ".join(c.describe() for c in worst)
        return (
            f"{self.artifact} drifted from its reference (PSI threshold "
            f"{self.settings.psi_threshold:g}): {columns}"
        )

    def to_text(self) -> str:
        """The summary line, then every tracked column."""
        sample = f" (sample of {self.sampled})" if self.sampled < self.rows else ""
        lines = [self.summary() if self.drifted() else f"{self.artifact}: no drift"]
        lines.append(f"  {self.rows} rows{sample}; per column:")
        lines += [f"  - {c.describe()}" for c in sorted(self.columns, key=lambda c: -c.psi)]
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        """A JSON-able form of the report."""
        return {
            "artifact": self.artifact,
            "rows": self.rows,
            "sampled": self.sampled,
            "psi_threshold": self.settings.psi_threshold,
            "drifted": [c.column for c in self.drifted()],
            "columns": [vars(c) for c in self.columns],
        }


def compute_drift(
    frame: Any, stats: dict[str, Any], artifact: str, settings: DriftSettings
) -> DriftReport:
    """Compare ``frame`` with reference ``stats`` column by column (vectorized)."""
    import numpy as np

    rows = len(frame)
    sample = None
    if rows > settings.sample_rows:
        sample = np.random.default_rng(0).integers(0, rows, settings.sample_rows)
    report = DriftReport(
        artifact, rows, settings.sample_rows if sample is not None else rows, settings
    )
    for column, ref in stats.get("columns", {}).items():
        if column not in frame.columns or ref.get("count", 0) == 0:
            continue
        series = frame[column]
        if ref["kind"] == "numeric" and _is_numeric(series):
            values = _floats(series)  # no copy for float64: sample the array, not the Series
            values = values[sample] if sample is not None else values
            report.columns.append(_numeric_drift(column, values, ref))
        elif ref["kind"] == "categorical":
            series = series.iloc[sample] if sample is not None else series
            report.columns.append(_categorical_drift(column, series, ref))
    return report


def _numeric_drift(column: str, values: Any, ref: dict[str, Any]) -> ColumnDrift:
    import numpy as np

    finite = values[np.isfinite(values)]
    quantiles = np.asarray(ref["quantiles"])
    below = np.cumsum(np.bincount(np.searchsorted(quantiles, finite), minlength=len(quantiles)))
    below = below[: len(quantiles)]  # below[j] = count of values <= quantiles[j]
    rows, count = max(len(values), 1), len(finite)
    at_edges = below[np.searchsorted(quantiles, np.asarray(ref["bin_edges"]))]
    bins = np.diff(np.concatenate([[0], at_edges, [count]])) / rows
    psi = population_stability([*bins, 1.0 - count / rows], [*ref["bin_fractions"], ref["missing"]])
    if not count:
        return ColumnDrift(column, "numeric", psi)
    ks = float(np.max(np.abs(below / count - np.asarray(ref["cdf"]))))
    return ColumnDrift(column, "numeric", psi, ks, ks_pvalue(ks, count, ref["count"]))


def _categorical_drift(column: str, series: Any, ref: dict[str, Any]) -> ColumnDrift:
    counts = series.value_counts(dropna=True)
    rows = max(len(series), 1)
    current = {str(k): int(v) / rows for k, v in counts.items()}
    known = ref["frequencies"]
    other = sum(v for k, v in current.items() if k not in known)
    psi = population_stability(
        [*(current.get(k, 0.0) for k in known), other, float(series.isna().sum()) / rows],
        [*known.values(), ref["other"], ref["missing"]],
    )
    return ColumnDrift(column, "categorical", psi)


def population_stability(current: list[float], reference: list[float]) -> float:
    """PSI of two lists of bin fractions (each floored at ``PSI_FLOOR``)."""
    total = 0.0
    for cur, ref in zip(current, reference, strict=True):
        cur, ref = max(float(cur), PSI_FLOOR), max(float(ref), PSI_FLOOR)
        total += (cur - ref) * math.log(cur / ref)
    return total


def ks_pvalue(statistic: float, n_current: int, n_reference: int) -> float:
    """Asymptotic two-sample Kolmogorov–Smirnov p-value."""
    from scipy.special import kolmogorov

    effective = n_current * n_reference / (n_current + n_reference)
    return float(kolmogorov(statistic * math.sqrt(effective)))
