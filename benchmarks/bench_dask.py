"""The Dask executor against the local one, on a real cluster of this machine.

Run: ``make bench-dask`` (or ``.venv/bin/python benchmarks/bench_dask.py [--repeat 3]``)

A ``dask scheduler`` and two ``dask worker`` processes (one thread each) on 127.0.0.1 are
started for the benchmark (their start-up is not measured: a team cluster is already up),
and a moto S3 server for the ``--store s3://`` figures. Each measurement is the wall time of
a whole ``jupyter-mlops run --engine inprocess --no-track --force`` command in a fresh process;
the local executor's run of the same pipeline, measured in this run, is the baseline.

- per-step overhead: chains of 100 and of 10 trivial steps (``benchmarks/generate.py``); the
  cost of one more step is (time(100) - time(10)) / 90 for each executor, and the overhead is
  the Dask executor's minus the local one's, with the workers sharing the pipeline folder and
  with an S3 store:  <= 50 ms per step. The fixed start-up difference (importing
  ``distributed``, connecting; time(10) - 10 steps' cost) and the whole 100-step commands are
  shown beside it.
- parallel speed-up: 8 independent steps sleeping 2 s each, local executor with
  ``--workers 1`` against dask on 2 workers x 1 thread:  >= 1.8 x faster

The fastest of ``--repeat`` runs (least disturbed by other load) is judged; the range is
printed beside it. Exit status 1 when a target is not met.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests"), str(HERE.parent / "tests" / "dask")]

from dask_cluster import DaskCluster, S3Server  # noqa: E402
from generate import write_synthetic_notebook  # noqa: E402
from nbfactory import write_notebook  # noqa: E402

BIN = Path(sys.executable).parent
CHAIN_STEPS = 100
SHORT_STEPS = 10
SLEEPERS = 8
SLEEP_SECONDS = 2
OVERHEAD_TARGET = 0.050
SPEEDUP_TARGET = 1.8


def timed_run(folder: Path, env: dict[str, str], *args: str) -> float:
    command = [str(BIN / "jupyter-mlops"), "run", str(folder), "--engine", "inprocess",
               "--no-track", "--force", "--json", *args]  # fmt: skip
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    if done.returncode != 0 or json.loads(done.stdout)["status"] != "succeeded":
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr}")
    return seconds


def extracted(notebook: Path) -> Path:
    folder = notebook.with_suffix("")
    subprocess.run([str(BIN / "jupyter-mlops"), "extract", str(notebook), "-o", str(folder)],
                   check=True, capture_output=True)  # fmt: skip
    return folder


def sleepers_notebook(path: Path) -> Path:
    cells: list = ["import time\n", (f"pause = {SLEEP_SECONDS}", ["parameters"])]
    cells += [f"%%mlstep sleep{i}\ntime.sleep(pause)\nwoke{i} = {i}\n" for i in range(SLEEPERS)]
    return write_notebook(path, cells)


def best(samples: list[float]) -> str:
    return f"{min(samples):.2f} s (range {min(samples):.2f}-{max(samples):.2f})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    import os

    work = Path(tempfile.mkdtemp(prefix="bench-dask-"))
    s3 = S3Server()
    s3.start()
    s3.create_bucket("bench")
    env = {**os.environ, **s3.env}
    cluster = DaskCluster(work / "logs", s3.env)
    try:
        cluster.start(2)
        return measure(work, env, cluster, args.repeat)
    finally:
        cluster.stop()
        s3.stop()


def measure(work: Path, env: dict[str, str], cluster: DaskCluster, repeat: int) -> int:
    chain = extracted(write_synthetic_notebook(work / "chain.ipynb", CHAIN_STEPS, CHAIN_STEPS + 3))
    short = extracted(write_synthetic_notebook(work / "short.ipynb", SHORT_STEPS, SHORT_STEPS + 3))
    sleepers = extracted(sleepers_notebook(work / "sleepers.ipynb"))
    dask = ("--executor", "dask", "--scheduler", cluster.address)
    store = ("--store", "s3://bench/store")
    timed_run(chain, env, *dask, *store)  # warm-up: imports, the workers' templates
    variants = {"local": (), "dask": dask, "dask + s3": (*dask, *store)}
    long: dict[str, list[float]] = {name: [] for name in variants}
    brief: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(repeat):  # interleaved: a load change on the machine hits every variant
        for name, extra in variants.items():
            long[name].append(timed_run(chain, env, *extra))
            brief[name].append(timed_run(short, env, *extra))
    print(f"trivial steps in a chain, whole command: {CHAIN_STEPS} steps | {SHORT_STEPS} steps")
    for name in variants:
        print(f"  {name:10} {best(long[name])} | {best(brief[name])}")
    extra_steps = CHAIN_STEPS - SHORT_STEPS
    step = {n: (min(long[n]) - min(brief[n])) / extra_steps for n in variants}
    ok = True
    for name in ("dask", "dask + s3"):
        overhead = step[name] - step["local"]
        start_up = (min(brief[name]) - SHORT_STEPS * step[name]) - (
            min(brief["local"]) - SHORT_STEPS * step["local"]
        )
        met = overhead <= OVERHEAD_TARGET
        ok &= met
        print(f"  {name}: per-step overhead {overhead * 1000:.1f} ms "
              f"(target <= {OVERHEAD_TARGET * 1000:.0f} ms) {'ok' if met else 'MISSED'}; "
              f"start-up {start_up:+.2f} s; whole {CHAIN_STEPS}-step command "
              f"{(min(long[name]) - min(long['local'])) / CHAIN_STEPS * 1000:+.1f} ms "
              "per step")  # fmt: skip
    print(f"  one step costs: local {step['local'] * 1000:.1f} ms, dask {step['dask'] * 1000:.1f} "
          f"ms, dask + s3 {step['dask + s3'] * 1000:.1f} ms")  # fmt: skip

    local: list[float] = []
    spread: list[float] = []
    for _ in range(repeat):
        local.append(timed_run(sleepers, env, "--workers", "1"))
        spread.append(timed_run(sleepers, env, *dask))
    speedup = min(local) / min(spread)
    met = speedup >= SPEEDUP_TARGET
    print(f"{SLEEPERS} independent {SLEEP_SECONDS}-second steps:")
    print(f"  local, 1 worker           {best(local)}")
    print(f"  dask, 2 workers x 1 thread {best(spread)}")
    print(f"  speed-up {speedup:.2f} x (target >= {SPEEDUP_TARGET} x) {'ok' if met else 'MISSED'}")
    return 0 if ok and met else 1


if __name__ == "__main__":
    sys.exit(main())
