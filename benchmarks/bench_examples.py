"""Each example notebook run by papermill, against its extracted pipeline run cold.

Run: ``.venv/bin/python benchmarks/bench_examples.py [--repeat 3]``

Baseline: ``papermill`` on the notebook itself (measured in this run, untracked: MLflow's
own import is not the pipeline's cost). Each measurement is the wall time of a whole command
in a fresh process, with ``--force --no-track`` so every step runs. Targets (issue 9):

- ``--engine inprocess``:  <= 1.0 x the notebook's papermill run
- ``--engine papermill``:  <= 1.3 x the notebook's papermill run

The median of ``--repeat`` runs is compared. Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
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


def measure(example: str, repeat: int, work: Path) -> dict[str, float]:
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
    return {name: statistics.median(values) for name, values in times.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-examples-"))
    missed = []
    try:
        for example in ("classification", "regression"):
            medians = measure(example, args.repeat, work)
            base = medians["notebook"]
            print(f"{example}: notebook under papermill {base:.2f} s (baseline)")
            for engine, target in TARGETS.items():
                ratio = medians[engine] / base
                verdict = "PASS" if ratio <= target else "MISS"
                print(
                    f"  pipeline, --engine {engine:9} {medians[engine]:.2f} s = {ratio:.2f} x"
                    f" (target <= {target} x): {verdict}"
                )
                if verdict == "MISS":
                    missed.append(f"{example}/{engine}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
