"""Cost of the notebook magics.

Run: ``.venv/bin/python benchmarks/bench_magic.py [--runs 2000] [--loads 7]``

(a) ``%%mlstep`` overhead: median time of a trivial ``%%mlstep`` cell minus the median time of
    the same body as a plain cell, both via ``run_cell(store_history=True)`` in one
    InteractiveShell (the baseline measured in the same run). Target <= 1 ms.
(b) ``%load_ext jupyter_mlops`` wall time in fresh processes (includes importing jupyter_mlops
    and its magics module, not IPython itself, which the notebook has already loaded).
    Target <= 150 ms. Also reports the heavy modules that load pulled in (should be none).
Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
import warnings

OVERHEAD_TARGET_MS = 1.0
LOAD_TARGET_MS = 150.0
BODY = "x = 1\ny = x + 1\ny"
HEAVY = ("mlflow", "sklearn", "pandas", "pandera", "papermill", "nbformat", "numpy")

_LOAD_SCRIPT = f"""
import sys, time
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
start = time.perf_counter()
shell.run_line_magic("load_ext", "jupyter_mlops")
elapsed = time.perf_counter() - start
heavy = [m for m in {HEAVY!r} if m in sys.modules]
print(elapsed, ",".join(heavy))
"""


def _median_cell_time(shell, code: str, runs: int) -> float:
    import io
    from contextlib import redirect_stdout

    times = []
    sink = io.StringIO()
    with redirect_stdout(sink):
        for _ in range(runs):
            start = time.perf_counter()
            shell.run_cell(code, store_history=True)
            times.append(time.perf_counter() - start)
            sink.seek(0)
            sink.truncate()
    return statistics.median(times)


def measure_overhead(runs: int) -> tuple[float, float]:
    """(median plain cell, median %%mlstep cell) in seconds, interleaved in blocks."""
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    warnings.filterwarnings("ignore", "Output cache limit")  # Out[] of 2 x runs cells
    shell.history_manager.enabled = False  # don't measure sqlite writes of 2 x runs cells
    shell.run_line_magic("load_ext", "jupyter_mlops")
    step_cell = "%%mlstep trivial\n" + BODY
    for code in (BODY, step_cell):  # warm up: first-run imports, caches
        _median_cell_time(shell, code, 50)
    plain, step = [], []
    block = max(runs // 10, 1)
    for _ in range(10):  # interleave so drift affects both equally
        plain.append(_median_cell_time(shell, BODY, block))
        step.append(_median_cell_time(shell, step_cell, block))
    return statistics.median(plain), statistics.median(step)


def measure_load(loads: int) -> tuple[list[float], list[float], set[str]]:
    """(load_ext times, whole-process times, heavy modules seen) over fresh processes."""
    times, process_times, heavy = [], [], set()
    for _ in range(loads):
        start = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", _LOAD_SCRIPT], capture_output=True, text=True, check=True
        ).stdout.split()
        process_times.append(time.perf_counter() - start)
        times.append(float(out[0]))
        if len(out) > 1:
            heavy.update(out[1].split(","))
    return times, process_times, heavy


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000, help="cells per kind for (a)")
    parser.add_argument("--loads", type=int, default=7, help="fresh processes for (b)")
    args = parser.parse_args(argv)

    plain, step = measure_overhead(args.runs)
    overhead_ms = (step - plain) * 1e3
    load_times, process_times, heavy = measure_load(args.loads)
    load_ms = statistics.median(load_times) * 1e3

    def verdict(ok: bool) -> str:
        return "PASS" if ok else "FAIL"

    overhead_ok = overhead_ms <= OVERHEAD_TARGET_MS
    load_ok = load_ms <= LOAD_TARGET_MS and not heavy
    rows = [
        ("plain cell (baseline), median", f"{plain * 1e3:.3f} ms", "", ""),
        ("%%mlstep cell, median", f"{step * 1e3:.3f} ms", "", ""),
        (
            "%%mlstep overhead",
            f"{overhead_ms:.3f} ms (x{step / plain:.2f})",
            f"<= {OVERHEAD_TARGET_MS:g} ms",
            verdict(overhead_ok),
        ),
        (
            f"%load_ext jupyter_mlops, median of {len(load_times)}",
            f"{load_ms:.1f} ms (min {min(load_times) * 1e3:.1f}, max {max(load_times) * 1e3:.1f})",
            f"<= {LOAD_TARGET_MS:g} ms",
            verdict(load_ok),
        ),
        (
            "whole process (python + IPython + load), median",
            f"{statistics.median(process_times) * 1e3:.0f} ms",
            "",
            "",
        ),
        ("heavy modules after load", ", ".join(sorted(heavy)) or "none", "none", ""),
    ]
    headers = ("measure", "value", "target", "result")
    widths = [max(len(r[i]) for r in (headers, *rows)) for i in range(4)]
    for row in (headers, tuple("-" * w for w in widths), *rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return 0 if overhead_ok and load_ok else 1


if __name__ == "__main__":
    sys.exit(main())
