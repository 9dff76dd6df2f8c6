"""Run every benchmark in this folder and exit 1 if any misses its target.

Run: ``make bench`` (or ``.venv/bin/python benchmarks/run_all.py``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHMARKS = ["bench_magic.py", "bench_extract.py", "bench_run.py", "bench_validation.py"]
BENCHMARKS += ["bench_generated_tests.py", "bench_examples.py"]


def main() -> int:
    here = Path(__file__).parent
    failed = []
    for name in BENCHMARKS:
        print(f"\n== {name}", flush=True)
        if subprocess.run([sys.executable, str(here / name)]).returncode != 0:
            failed.append(name)
    print("\nall targets met" if not failed else f"\ntargets missed in: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
