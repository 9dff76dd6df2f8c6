"""Run-time data validation of a 1M-row x 20-column frame, next to plain pandera.

Run: ``.venv/bin/python benchmarks/bench_validation.py [--rows 1000000] [--repeat 5]``

A reference frame (12 float, 4 int, 4 five-valued string columns) gets its schema and drift
statistics inferred (``schemas.write_schema``); a new frame from the same distribution is
then checked. Measured in this run (median of ``--repeat``, the variants interleaved):

* pandera: ``schema.validate(frame, lazy=True)`` on the same schema — the baseline;
* plain drift: the same statistics computed directly on every row with numpy/pandas
  (decile bins → PSI, CDF on the reference percentiles → KS, value frequencies), no
  reporting — the least a drift check costs;
* jupyter_mlops: ``validation.validate_frame`` + ``drift.compute_drift`` with the default
  settings (what the runner does once the artifact is loaded), and with sampling off.

Target: jupyter_mlops <= 1.5 x (pandera + plain drift). Also printed for information: the
ratio to pandera alone, the runner's whole hook (``check_outputs``: read schema and stats,
load the parquet artifact, validate, drift) and a failing frame (5 columns with 10% of their
values out of range) for pandera and for the report. Exit status 1 when the target is missed.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

TARGET_RATIO = 1.5


def make_frame(rows: int, seed: int) -> Any:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    columns: dict[str, Any] = {}
    for i in range(12):
        columns[f"f{i}"] = rng.normal(loc=i, scale=1 + i / 4, size=rows)
    for i in range(4):
        columns[f"i{i}"] = rng.integers(0, 100 * (i + 1), size=rows)
    for i in range(4):
        values = np.array([f"v{k}" for k in range(5)])
        columns[f"s{i}"] = pd.Series(values[rng.integers(0, 5, size=rows)]).astype("str")
    return pd.DataFrame(columns)


def plain_drift(frame: Any, stats: dict[str, Any]) -> dict[str, float]:
    """PSI (and KS for numbers) of every column on every row, straight numpy/pandas."""
    import numpy as np

    out: dict[str, float] = {}
    for column, ref in stats["columns"].items():
        series = frame[column]
        rows = len(series)
        if ref["kind"] == "numeric":
            values = series.to_numpy(dtype=np.float64)
            counts = np.histogram(values, bins=[-np.inf, *ref["bin_edges"], np.inf])[0]
            cur = [*(counts / rows), 0.0]
            expected = [*ref["bin_fractions"], ref["missing"]]
            below = np.searchsorted(np.sort(values), ref["quantiles"], side="right") / rows
            out[f"{column}.ks"] = float(np.max(np.abs(below - np.asarray(ref["cdf"]))))
        else:
            freq = series.value_counts(normalize=True)
            cur = [float(freq.get(k, 0.0)) for k in ref["frequencies"]] + [0.0, 0.0]
            expected = [*ref["frequencies"].values(), ref["other"], ref["missing"]]
        out[f"{column}.psi"] = sum(
            (max(c, 1e-4) - max(e, 1e-4)) * math.log(max(c, 1e-4) / max(e, 1e-4))
            for c, e in zip(cur, expected, strict=True)
        )
    return out


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def medians(actions: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(repeat):
        for name, action in actions.items():
            times[name].append(timed(action))
    return {name: statistics.median(values) for name, values in times.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    import pandera.errors

    from jupyter_mlops.artifacts.store import ArtifactStore
    from jupyter_mlops.quality.drift import DriftSettings, compute_drift
    from jupyter_mlops.quality.schemas import read_schema, read_stats, stats_file, write_schema
    from jupyter_mlops.quality.validation import check_outputs, validate_frame

    folder = Path(tempfile.mkdtemp(prefix="bench-validation-"))
    schema_path = write_schema(folder, "load", "df", make_frame(args.rows, seed=0))
    schema, stats = read_schema(schema_path), read_stats(stats_file(folder, "load", "df"))
    assert stats is not None
    frame = make_frame(args.rows, seed=1)
    default, exact = DriftSettings(), DriftSettings(sample_rows=args.rows)

    def ours(settings: DriftSettings) -> Callable[[], object]:
        def check() -> None:
            report = validate_frame(frame, schema, "load.df", "schemas/load.df.yaml")
            assert report.ok, report.to_text()
            compute_drift(frame, stats, "load.df", settings).metrics("df")

        return check

    store = ArtifactStore.for_pipeline(folder)
    outputs = {"df": store.put("df", frame)}
    hook = lambda: check_outputs(folder, store, "load", outputs, default)  # noqa: E731
    ours(default)()  # warm up imports and pandera's dispatch caches
    schema.validate(frame, lazy=True)
    result = medians(
        {
            "pandera": lambda: schema.validate(frame, lazy=True),
            "plain drift": lambda: plain_drift(frame, stats),
            "jupyter_mlops": ours(default),
            "jupyter_mlops, no sampling": ours(exact),
            "runner hook (incl. load)": hook,
        },
        args.repeat,
    )

    bad = frame.copy()
    every_tenth = bad.index[::10]
    bad.loc[every_tenth, ["f0", "f1"]] = -1e9
    bad.loc[every_tenth, "i0"] = -(10**9)
    bad.loc[every_tenth, ["s0", "s1"]] = "unseen"

    def pandera_failing() -> None:
        with contextlib.suppress(pandera.errors.SchemaErrors):
            schema.validate(bad, lazy=True)

    failing = medians(
        {
            "pandera (failing)": pandera_failing,
            "jupyter_mlops report (failing)": lambda: validate_frame(bad, schema, "a", "s"),
        },
        max(1, args.repeat // 2),
    )

    baseline = result["pandera"] + result["plain drift"]
    ratio = result["jupyter_mlops"] / baseline
    print(f"frame: {args.rows} rows x {frame.shape[1]} columns; median of {args.repeat}")
    for name, seconds in {**result, **failing}.items():
        print(f"  {name:32s} {seconds * 1000:8.1f} ms")
    print(
        f"  jupyter_mlops / (pandera + plain drift) = {ratio:.2f} (target <= {TARGET_RATIO}); "
        f"without sampling {result['jupyter_mlops, no sampling'] / baseline:.2f}; "
        f"vs pandera alone {result['jupyter_mlops'] / result['pandera']:.2f}"
    )
    ok = ratio <= TARGET_RATIO
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
