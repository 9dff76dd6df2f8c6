"""Drift monitoring of 1M rows x 20 numeric features, next to plain scipy calls.

Run: ``make bench-monitor`` or ``.venv/bin/python benchmarks/bench_monitor.py [--rows 1000000]
[--columns 20] [--reference-rows 100000] [--small-reference-rows 1000] [--repeat 3] [--quick]``

A seeded current frame (``--rows`` x ``--columns`` float64, a quarter of the columns shifted)
is compared with two seeded references drawn from the unshifted distribution: a large one
(``--reference-rows``: Evidently's defaults pick the normalized Wasserstein distance) and a
small one (``--small-reference-rows`` <= 1,000: the KS test). Measured in this run (median of
``--repeat``, the contenders interleaved):

* jupyter_mlops: ``monitor.column_drift.dataset_drift`` with the default settings (test per
  column, PSI per column, the dataset verdict; 2 threads);
* scipy: the same statistics with plain calls per column — ``scipy.stats.wasserstein_distance
  / np.std(reference)`` or ``scipy.stats.ks_2samp``, plus PSI from ``np.histogram`` over 10
  equal-width bins of both samples — the baseline, single-threaded as scipy is.

Both must give the same statistics (relative tolerance 1e-9). Target (issue 13): ours <= 2 s
for each reference. Timings are printed with the ratio (scipy / ours) and the machine; exit
status 1 when a target is missed or the statistics differ.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

TARGET_SECONDS = 2.0
RTOL = 1e-9
PSI_BINS = 10


def make_frames(rows: int, columns: int, reference_rows: int, seed: int) -> tuple[Any, Any]:
    """A current frame with every fourth column shifted by 0.2 std, and its reference."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    names = [f"f{index:02d}" for index in range(columns)]
    scales = rng.uniform(0.5, 5.0, columns)
    current = {
        name: rng.normal(0.2 * (index % 4 == 0), 1.0, rows) * scales[index]
        for index, name in enumerate(names)
    }
    reference = {
        name: rng.normal(0.0, 1.0, reference_rows) * scales[index]
        for index, name in enumerate(names)
    }
    return pd.DataFrame(reference), pd.DataFrame(current)


def scipy_statistics(reference: Any, current: Any, test: str) -> dict[str, tuple[float, float]]:
    """Per column (statistic, PSI) with plain scipy/numpy calls."""
    import numpy as np
    from scipy import stats

    results = {}
    for name in reference.columns:
        ref, cur = reference[name].to_numpy(), current[name].to_numpy()
        if test == "ks":
            statistic = stats.ks_2samp(ref, cur).pvalue
        else:
            statistic = stats.wasserstein_distance(ref, cur) / np.std(ref)
        edges = np.histogram_bin_edges(np.concatenate([ref, cur]), bins=PSI_BINS)
        ref_share = np.histogram(ref, edges)[0] / len(ref)
        cur_share = np.histogram(cur, edges)[0] / len(cur)
        ref_share, cur_share = _fill(ref_share), _fill(cur_share)
        results[name] = (
            float(statistic),
            float(np.sum((ref_share - cur_share) * np.log(ref_share / cur_share))),
        )
    return results


def _fill(shares: Any) -> Any:
    import numpy as np

    smallest = shares[shares > 0].min()
    return np.where(shares == 0, smallest / 1e6 if smallest <= 0.0001 else 0.0001, shares)


def ours_statistics(reference: Any, current: Any) -> dict[str, tuple[float, float]]:
    from jupyter_mlops.monitor.column_drift import dataset_drift
    from jupyter_mlops.monitor.settings import MonitorSettings

    drift = dataset_drift(reference, current, MonitorSettings())
    return {
        column.column: (column.p_value if column.test == "ks" else column.statistic, column.psi)  # type: ignore[misc]
        for column in drift.columns
    }


def timed(function: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def same(ours: dict[str, tuple[float, float]], baseline: dict[str, tuple[float, float]]) -> bool:
    import math

    return ours.keys() == baseline.keys() and all(
        math.isclose(a, b, rel_tol=RTOL, abs_tol=1e-300)
        for name in ours
        for a, b in zip(ours[name], baseline[name], strict=True)
    )


def machine() -> str:
    model = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            model = next(
                line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")
            )
    except (OSError, StopIteration):
        pass
    import numpy
    import scipy

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{os.cpu_count()} cores, {model}; Python {platform.python_version()}, numpy {numpy.__version__}, "
        f"scipy {scipy.__version__}; load average {load:.2f}"
    )


def measure(reference: Any, current: Any, test: str, repeat: int) -> tuple[float, float, bool]:
    """Median seconds of ours and of scipy (interleaved), and whether their statistics agree."""
    ours_times, scipy_times, agree = [], [], True
    for _ in range(repeat):
        seconds, ours = timed(lambda: ours_statistics(reference, current))
        ours_times.append(seconds)
        seconds, baseline = timed(lambda: scipy_statistics(reference, current, test))
        scipy_times.append(seconds)
        agree = agree and same(ours, baseline)
    return statistics.median(ours_times), statistics.median(scipy_times), agree


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--columns", type=int, default=20)
    parser.add_argument("--reference-rows", type=int, default=100_000)
    parser.add_argument("--small-reference-rows", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--quick", action="store_true", help="100,000 rows, one round")
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.repeat = 100_000, 1
    print(f"machine: {machine()}")
    ok = True
    for reference_rows, test in (
        (args.reference_rows, "wasserstein"),
        (args.small_reference_rows, "ks"),
    ):
        reference, current = make_frames(args.rows, args.columns, reference_rows, args.seed)
        ours, baseline, agree = measure(reference, current, test, args.repeat)
        met = ours <= TARGET_SECONDS
        ok = ok and met and agree
        print(
            f"{args.rows:,} rows x {args.columns} columns vs a {reference_rows:,}-row reference ({test} + PSI): "
            f"jupyter_mlops {ours:.3f} s, scipy {baseline:.3f} s, ratio scipy/ours {baseline / ours:.1f}x; "
            f"statistics {'equal' if agree else 'DIFFER'} (rtol {RTOL:g}); "
            f"target <= {TARGET_SECONDS:g} s {'met' if met else 'MISSED'}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
