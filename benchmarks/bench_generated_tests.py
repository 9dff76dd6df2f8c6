"""How long the generated test suite of each example pipeline takes (`jupyter mlops test`).

Run: ``.venv/bin/python benchmarks/bench_generated_tests.py [--examples classification ...]``

Each example notebook is extracted into a scratch folder and run once (``--engine inprocess
--no-track``: the run captures the fixtures); then the wall time of the whole
``jupyter mlops test PIPELINE`` command is measured in a fresh process. Baseline, measured in
the same run: pytest collecting the same suite without running it (``--collect-only``:
interpreter, pytest and the imports the tests need). Target: the suite of each example
pipeline finishes in <= 60 s. Test failures are printed but judged by the test suite, not here.
Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
TARGET_SECONDS = 60.0


def timed(command: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    return time.perf_counter() - start, done.stdout + done.stderr


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", nargs="+", default=["classification", "regression"])
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-tests-"))
    mlops = str(BIN / "jupyter-mlops")
    missed = []
    try:
        for name in args.examples:
            folder = work / name
            subprocess.run(
                [mlops, "extract", str(NOTEBOOKS / f"{name}.ipynb"), "-o", str(folder)],
                check=True,
                capture_output=True,
            )
            run = [mlops, "run", str(folder), "--engine", "inprocess", "--no-track"]
            subprocess.run(run, check=True, capture_output=True)
            quiet = ["-q", "-p", "no:cacheprovider"]
            baseline, _ = timed([mlops, "test", str(folder), *quiet, "--collect-only"])
            seconds, output = timed([mlops, "test", str(folder), *quiet])
            summary = re.findall(r"^\d+ (?:passed|failed).*$", output, re.MULTILINE)
            verdict = "PASS" if seconds <= TARGET_SECONDS else "FAIL"
            print(
                f"{name}: generated suite {seconds:.1f} s (collect only {baseline:.1f} s; "
                f"{summary[-1] if summary else 'no summary'}) — target <= {TARGET_SECONDS:.0f} s: "
                f"{verdict}",
                flush=True,
            )
            if verdict == "FAIL":
                missed.append(name)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
