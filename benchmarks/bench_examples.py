"""Each example notebook run by papermill, against its extracted pipeline run cold.

Run: ``.venv/bin/python benchmarks/bench_examples.py [--repeat 3]``

Baseline: ``papermill`` on the notebook itself, measured in this run. Like is compared with
like: both sides untracked (``JUPYTER_MLOPS_TRACKING=off`` for the notebook, whose headless
runs record themselves otherwise; ``--no-track`` for the pipeline). Each measurement is the
wall time of a whole command in a fresh process, with ``--force`` so every step runs; the
commands are interleaved so that load from elsewhere affects each alike. Targets (issue 9):

- ``--engine inprocess``:  <= 1.0 x the notebook's papermill run
- ``--engine papermill``:  <= 1.3 x the notebook's papermill run

The ratio of the fastest of ``--repeat`` runs (least disturbed by other load) is judged; the
range is printed beside it. Exit status 1 when a target is not met.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
EXAMPLES = Path(__file__).resolve().parent.parent / "notebooks"
TARGETS = {"inprocess": 1.0, "papermill": 1.3}


def wall(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, capture_output=True, env=ENV)
    return time.perf_counter() - start


# No tracking anywhere: the notebook's own headless run would record itself otherwise.
ENV = {**os.environ, "JUPYTER_MLOPS_TRACKING": "off"}


def measure(example: str, repeat: int, work: Path) -> dict[str, list[float]]:
    folder = work / example
    folder.mkdir()
    notebook = folder / f"{example}.ipynb"
    shutil.copy(EXAMPLES / notebook.name, notebook)
    wall([str(BIN / "jupyter-mlops"), "extract", notebook.name], folder)
    pipeline = folder / "pipelines" / example
    commands = {
        "notebook": [str(BIN / "papermill"), notebook.name, "out.ipynb", "--log-level", "ERROR"],
        **{
            engine: [str(BIN / "jupyter-mlops"), "run", str(pipeline), "--engine", engine]
            + ["--force", "--no-track"]
            for engine in TARGETS
        },
    }
    wall(commands["inprocess"], folder)  # warm-up: caches, schemas, fixtures written once
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(repeat):
        for name, command in commands.items():  # interleaved: load affects each alike
            times[name].append(wall(command, folder))
    return times


def spread(values: list[float]) -> str:
    """The fastest of ``values`` and their range, e.g. ``6.12 s (6.12-7.40)``."""
    return f"{min(values):.2f} s ({min(values):.2f}-{max(values):.2f})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-examples-"))
    missed = []
    try:
        print(f"untracked on both sides; fastest of {args.repeat} (range), {os.cpu_count()} CPUs")
        for example in ("classification", "regression"):
            times = measure(example, args.repeat, work)
            base = min(times["notebook"])
            print(f"{example}: notebook under papermill {spread(times['notebook'])} (baseline)")
            for engine, target in TARGETS.items():
                ratio = min(times[engine]) / base
                verdict = "PASS" if ratio <= target else "not met"
                print(
                    f"  pipeline cold, --engine {engine:9} {spread(times[engine])}"
                    f" = {ratio:.2f} x (target <= {target} x): {verdict}"
                )
                if verdict != "PASS":
                    missed.append(f"{example}/{engine}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
