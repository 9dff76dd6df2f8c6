"""Two-sample drift statistics on prepared arrays, equal to scipy's on the same data.

Numeric tests take *sorted*, finite float64 arrays (:func:`sorted_finite`), so a column of
the current data is sorted once and reused by KS, Wasserstein and PSI:

* :func:`ks` — scipy.stats.ks_2samp (two-sided; exact p-value below 10,000 rows per side,
  asymptotic ``kstwo`` above, as scipy's ``method="auto"``). The statistic is found from the
  reference points alone (the largest CDF gap sits at a reference point or just before one),
  so the large side costs one ``searchsorted`` of the small side.
* :func:`wasserstein` — scipy.stats.wasserstein_distance, computed as ∫|Q_ref − Q_cur| over
  the merged quantile grid, which is built with integer arithmetic instead of a merge sort.
* :func:`chi2`, :func:`z_test` — on category counts: chi-square test of homogeneity of the
  2×k table (scipy.stats.chi2_contingency), and Evidently's two-proportion z-test on the
  first category.
* :func:`jensenshannon` (scipy.spatial.distance.jensenshannon, natural log) and :func:`psi`
  on bin or category fractions (zero fractions filled as Evidently does).

numpy/scipy are imported inside functions: the CLI imports this package for ``--help``.
"""

from __future__ import annotations

import functools
from typing import Any

KS_EXACT_MAX_ROWS = 10_000  # scipy.stats.ks_2samp method="auto": exact p-value up to this size
ZERO_FILL = 0.0001  # Evidently's fraction for an empty bin (or min/1e6 when that is smaller)


def sorted_finite(values: Any) -> Any:
    """The finite values of ``values`` (an array or a pandas Series, nullable dtypes too) as a
    sorted float64 array."""
    import numpy as np

    if hasattr(values, "to_numpy") and not isinstance(values.dtype, np.dtype):  # pandas nullable
        array = values.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        array = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(array)
    values_sorted = array.copy() if finite.all() else array[finite]
    values_sorted.sort()
    return values_sorted


def ks(reference_sorted: Any, current_sorted: Any) -> tuple[float, float]:
    """Two-sided two-sample Kolmogorov–Smirnov ``(D, p-value)`` as scipy.stats.ks_2samp."""
    import numpy as np
    from scipy import stats

    small, large = sorted((reference_sorted, current_sorted), key=len)
    if len(large) <= KS_EXACT_MAX_ROWS:
        result = stats.ks_2samp(reference_sorted, current_sorted)
        return float(result.statistic), float(result.pvalue)
    statistic = _ks_statistic(small, large)
    m, n = float(len(large)), float(len(small))
    p_value = stats.kstwo.sf(statistic, np.round(m * n / (m + n)))
    return statistic, float(np.clip(p_value, 0.0, 1.0))


def _ks_statistic(small: Any, large: Any) -> float:
    """The largest gap between the two empirical CDFs. Both are steps changing only at data
    points, so the gap is constant between consecutive points: the pieces starting at a small
    point and the pieces ending just before one (left counts) cover every value scipy sees."""
    import numpy as np

    n_small, n_large = len(small), len(large)
    small_at = np.searchsorted(small, small, side="right") / n_small
    large_at = np.searchsorted(large, small, side="right") / n_large
    large_before = np.searchsorted(large, small, side="left") / n_large
    small_before = np.searchsorted(small, small, side="left") / n_small
    return float(
        max(np.max(np.abs(small_at - large_at)), np.max(np.abs(large_before - small_before)))
    )


def wasserstein(reference_sorted: Any, current_sorted: Any) -> float:
    """The 1-Wasserstein distance of two sorted samples, as scipy.stats.wasserstein_distance."""
    import numpy as np

    n_ref, n_cur = len(reference_sorted), len(current_sorted)
    if n_ref * n_cur >= 2**62:
        from scipy import stats

        return float(stats.wasserstein_distance(reference_sorted, current_sorted))
    ref_index, cur_index, widths = _quantile_pieces(n_ref, n_cur)
    gaps = reference_sorted[ref_index]
    np.subtract(gaps, current_sorted[cur_index], out=gaps)
    np.abs(gaps, out=gaps)
    return float(np.dot(gaps, widths) / (n_ref * n_cur))


@functools.lru_cache(maxsize=4)
def _quantile_pieces(n_ref: int, n_cur: int) -> tuple[Any, Any, Any]:
    """The pieces of [0, 1] on which both quantile functions are constant: the reference and
    current index on each and its width in units of 1/(n_ref·n_cur). Cached: every column of
    a window without missing values has the same sizes."""
    import numpy as np

    grid = _merged_grid(n_ref, n_cur)[:-1]  # the last two keys are both n_ref·n_cur
    widths = np.diff(grid)
    starts = grid[:-1][widths > 0]
    pieces = (starts // n_cur, starts // n_ref, widths[widths > 0].astype(np.float64))
    for array in pieces:
        array.setflags(write=False)
    return pieces


def _merged_grid(n_ref: int, n_cur: int) -> Any:
    """The sorted union of the quantile breakpoints j/n_ref and i/n_cur, in units of
    1/(n_ref·n_cur): reference ones are j·n_cur, current ones i·n_ref (ties kept twice)."""
    import numpy as np

    j = np.arange(n_ref + 1, dtype=np.int64)
    i = np.arange(n_cur + 1, dtype=np.int64)
    ref_keys, cur_keys = j * n_cur, i * n_ref
    ref_positions = j + (ref_keys + n_ref - 1) // n_ref  # current keys strictly below
    cur_positions = i + cur_keys // n_cur + 1  # reference keys at or below
    merged = np.empty(n_ref + n_cur + 2, dtype=np.int64)
    merged[ref_positions] = ref_keys
    merged[cur_positions] = cur_keys
    return merged


def normalized_wasserstein(
    reference_sorted: Any, current_sorted: Any, reference_std: float
) -> float:
    """Wasserstein distance over the reference standard deviation (floored at 0.001, as Evidently)."""
    return wasserstein(reference_sorted, current_sorted) / max(reference_std, 0.001)


def bin_edges(reference_sorted: Any, current_sorted: Any, bins: int) -> Any:
    """``bins`` equal-width bins over both samples' range (np.histogram_bin_edges of both)."""
    import numpy as np

    low = min(reference_sorted[0], current_sorted[0])
    high = max(reference_sorted[-1], current_sorted[-1])
    if low == high:
        low, high = low - 0.5, high + 0.5
    return np.linspace(low, high, bins + 1)


def bin_fractions(values_sorted: Any, edges: Any) -> Any:
    """Fraction of ``values_sorted`` in each bin of ``edges`` (np.histogram's bins: the last
    one closed) — two searchsorted calls instead of a pass over the values."""
    import numpy as np

    below = np.searchsorted(values_sorted, edges, side="left")
    below[-1] = np.searchsorted(values_sorted, edges[-1], side="right")
    return np.diff(below) / len(values_sorted)


def sturges_bins(rows: int) -> int:
    """Sturges' rule, the bin count Evidently uses for numeric Jensen–Shannon."""
    import math

    return int(math.ceil(math.log2(rows))) + 1 if rows > 0 else 1


def category_counts(reference: Any, current: Any) -> tuple[list[Any], Any, Any]:
    """The categories of both samples (sorted when comparable) and each side's counts."""
    import numpy as np
    import pandas as pd

    ref_counts = pd.Series(reference).value_counts(dropna=True)
    cur_counts = pd.Series(current).value_counts(dropna=True)
    categories = list(ref_counts.index.union(cur_counts.index, sort=False))
    try:
        categories.sort()
    except TypeError:
        categories.sort(key=repr)
    ref = ref_counts.reindex(categories, fill_value=0).to_numpy(dtype=np.float64)
    cur = cur_counts.reindex(categories, fill_value=0).to_numpy(dtype=np.float64)
    return categories, ref, cur


def chi2(reference_counts: Any, current_counts: Any) -> tuple[float, float]:
    """Chi-square test of homogeneity of the two samples' category counts, ``(statistic,
    p-value)`` as scipy.stats.chi2_contingency (no continuity correction) on the 2×k table.

    Evidently instead tests the current counts against the reference *proportions* as if they
    were exact (scipy.stats.chisquare), which flags sampling noise of a small reference as
    drift whenever the current window is larger than the reference."""
    import numpy as np
    from scipy import special

    table = np.vstack([reference_counts, current_counts]).astype(np.float64)
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return 0.0, 1.0
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    statistic = float(np.sum((table - expected) ** 2 / expected))
    return statistic, float(special.chdtrc(table.shape[1] - 1, statistic))


def z_test(reference_counts: Any, current_counts: Any) -> tuple[float, float]:
    """Two-proportion z-test on the share of the first category (Evidently's z-test)."""
    import math

    from scipy import special

    n_ref, n_cur = float(reference_counts.sum()), float(current_counts.sum())
    p_ref, p_cur = reference_counts[0] / n_ref, current_counts[0] / n_cur
    pooled = (p_ref * n_ref + p_cur * n_cur) / (n_ref + n_cur)
    variance = pooled * (1.0 - pooled) * (1.0 / n_ref + 1.0 / n_cur)
    if variance <= 0.0:
        return 0.0, 1.0
    z = float((p_ref - p_cur) / math.sqrt(variance))
    return z, float(2.0 * (1.0 - special.ndtr(abs(z))))


def jensenshannon(reference_fractions: Any, current_fractions: Any) -> float:
    """Jensen–Shannon distance (natural log), scipy.spatial.distance.jensenshannon."""
    from scipy.spatial import distance

    return float(distance.jensenshannon(reference_fractions, current_fractions))


def fill_zeroes(fractions: Any) -> Any:
    """Evidently's empty-bin fill: 0.0001, or the smallest non-zero fraction / 1e6 if smaller."""
    import numpy as np

    filled = np.array(fractions, dtype=np.float64)
    nonzero = filled[filled != 0]
    if len(nonzero) == 0:
        return filled
    smallest = float(nonzero.min())
    filled[filled == 0] = smallest / 10**6 if smallest <= ZERO_FILL else ZERO_FILL
    return filled


def psi(reference_fractions: Any, current_fractions: Any) -> float:
    """Population stability index Σ (ref − cur)·ln(ref/cur), empty bins filled first."""
    import numpy as np

    ref, cur = fill_zeroes(reference_fractions), fill_zeroes(current_fractions)
    return float(np.sum((ref - cur) * np.log(ref / cur)))
