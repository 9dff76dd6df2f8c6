"""Extraction speed on a generated 500-cell, 100-step notebook.

Run: ``.venv/bin/python benchmarks/bench_extract.py [--repeat 5]``

Measures, in this process: scanning the notebook into the pipeline model, and the whole
extraction (scan + code generation + one ruff format pass + writing files), cold (empty
output folder) and warm (nothing changed). The baseline is reading the same notebook with
``json.load`` (the least any tool can do), measured in the same run. Target: extraction <= 1 s.
Exit status 1 when the target is missed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from generate import write_synthetic_notebook  # noqa: E402

TARGET_S = 1.0


def median_seconds(action: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    from jupyter_mlops.authoring.scan import scan_notebook
    from jupyter_mlops.extract.writer import write_package

    work = Path(tempfile.mkdtemp(prefix="bench-extract-"))
    notebook = write_synthetic_notebook(work / "synthetic.ipynb", steps=100, cells=500)
    out = work / "pipeline"

    def cold() -> None:
        shutil.rmtree(out, ignore_errors=True)
        write_package(scan_notebook(notebook), out)

    baseline = median_seconds(lambda: json.loads(notebook.read_text()), args.repeat)
    scan = median_seconds(lambda: scan_notebook(notebook), args.repeat)
    extract_cold = median_seconds(cold, args.repeat)
    extract_warm = median_seconds(lambda: write_package(scan_notebook(notebook), out), args.repeat)
    shutil.rmtree(work)

    ok = extract_cold <= TARGET_S
    print(f"extract: 500 cells, 100 steps (median of {args.repeat})")
    print(f"  json.load of the notebook (baseline)  {baseline * 1000:8.1f} ms")
    print(
        f"  scan to pipeline model                {scan * 1000:8.1f} ms  ({scan / baseline:.0f}x baseline)"
    )
    print(
        f"  extract, empty folder                 {extract_cold * 1000:8.1f} ms  target <= {TARGET_S * 1000:.0f} ms  {'PASS' if ok else 'FAIL'}"
    )
    print(f"  extract again, nothing changed        {extract_warm * 1000:8.1f} ms")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
