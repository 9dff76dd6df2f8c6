"""Run speed on a generated 10-step pipeline of trivial steps, against a plain Python script.

Run: ``.venv/bin/python benchmarks/bench_run.py [--repeat 3] [--steps 10]``

Baseline: the same step code run as one plain ``python`` script (measured in this run).
Each measurement is the wall time of the whole ``jupyter-mlops run`` command in a fresh
process, recording to an existing MLflow SQLite store (as in daily use; the one-off creation
of a new store is excluded by a warm-up run). Targets:

- cold run, ``--engine inprocess``:  <= 2 x plain + 1 s. Judged with ``--no-track``: MLflow's
  own floor (``import mlflow`` + opening the SQLite store, ~1.9 s here, measured in this run
  and printed) is more than the whole budget, so the tracked run is reported beside it.
- cold run, ``--engine papermill``:  <= 1.5 s per step on average
- no-change re-run (all cached):      <= 1 s for the whole command

Exit status 1 when a target is missed.
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
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from generate import plain_script, write_synthetic_notebook  # noqa: E402

BIN = Path(sys.executable).parent


def wall(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - start


def mlops_run(folder: Path, engine: str, tracking_uri: str, *extra: str) -> list[str]:
    return [
        str(BIN / "jupyter-mlops"), "run", str(folder), "--engine", engine,
        "--tracking-uri", tracking_uri, *extra,
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-run-"))
    script = work / "plain.py"
    script.write_text(plain_script(args.steps))
    notebook = write_synthetic_notebook(
        work / "chain.ipynb", steps=args.steps, cells=args.steps + 3
    )
    folder = work / "pipeline"
    subprocess.run([str(BIN / "jupyter-mlops"), "extract", str(notebook), "-o", str(folder)],
                   check=True, capture_output=True)  # fmt: skip
    tracking_uri = f"sqlite:///{work / 'mlflow.db'}"
    subprocess.run(mlops_run(folder, "inprocess", tracking_uri), check=True, capture_output=True)

    def cold(engine: str, *extra: str) -> float:
        shutil.rmtree(folder / ".mlops", ignore_errors=True)
        return wall(mlops_run(folder, engine, tracking_uri, *extra), work)

    def median(measure: Callable[[], float]) -> float:
        return statistics.median(measure() for _ in range(args.repeat))

    open_store = (
        f"import mlflow; mlflow.MlflowClient(tracking_uri={tracking_uri!r}).search_experiments()"
    )
    plain = median(lambda: wall([sys.executable, str(script)], work))
    mlflow_floor = median(lambda: wall([sys.executable, "-c", open_store], work))
    untracked = median(lambda: cold("inprocess", "--no-track"))
    inprocess = median(lambda: cold("inprocess"))
    papermill = median(lambda: cold("papermill"))
    rerun = median(lambda: wall(mlops_run(folder, "papermill", tracking_uri), work))
    shutil.rmtree(work)

    targets = {
        "inprocess": untracked <= 2 * plain + 1,
        "papermill": papermill / args.steps <= 1.5,
        "rerun": rerun <= 1.0,
    }
    verdict = {k: "PASS" if ok else "FAIL" for k, ok in targets.items()}
    n = args.steps
    rows = [
        ("plain python script (baseline)", plain, ""),
        ("import mlflow + open the store", mlflow_floor, "MLflow's floor for any tracked run"),
        (
            "cold, inprocess, --no-track",
            untracked,
            f"{untracked / plain:.0f}x plain; target <= {2 * plain + 1:.2f} s  {verdict['inprocess']}",
        ),
        ("cold, inprocess, tracked", inprocess, f"floor + {inprocess - mlflow_floor:.2f} s"),
        (
            "cold, papermill, tracked",
            papermill,
            f"{papermill / n:.2f} s/step; target <= 1.50 s/step  {verdict['papermill']}",
        ),
        ("no-change re-run (all cached)", rerun, f"target <= 1.00 s  {verdict['rerun']}"),
    ]
    print(f"run: {n} trivial steps, wall time of the whole command (median of {args.repeat})")
    for label, seconds, note in rows:
        print(f"  {label:32} {seconds:6.2f} s  {note}")
    print(f"  ({os.cpu_count()} CPUs; tracked runs record to an existing MLflow SQLite store)")
    return 0 if all(targets.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
