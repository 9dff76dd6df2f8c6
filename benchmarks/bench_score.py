"""Scoring benchmark: ``jupyter mlops score`` into SQLite against hand-written pandas scoring.

Run: ``make bench-score`` or ``.venv/bin/python benchmarks/bench_score.py [--quick]
[--rows N] [--chunk-rows N] [--repeat N] [--threads N] [--json-out FILE] [--markdown-out FILE]``.

One run writes a deterministic Parquet file (``--rows``, default 1,000,000: an integer key
and 8 float features, one row group per 1,048,576 rows as pandas writes it), registers a
scikit-learn classifier in a new MLflow SQLite store, then runs each contender in its own
fresh interpreter (``score_child.py``): ours (``jupyter mlops score MODEL@ALIAS --input FILE
--key customer_id --into sqlite:///… --table scores``) and the baseline (``pd.read_parquet``
+ ``predict``/``predict_proba`` + ``to_sql`` of the same columns into SQLite through
``sqlite3``). Throughput = rows / seconds of the timed part (model load and scoring, not the
interpreter's start or imports), measured alike in both. Peak memory = the child's
``ru_maxrss`` (``os.wait4``), raw and above the child's floor (its RSS after the imports and
one model load). With ``--repeat``, rounds are interleaved and each contender's fastest run
is judged. The two tables must hold the same predictions (row count and a SHA-256 of key +
prediction in key order). Targets (issue 12): ours >= 1 x the baseline's throughput at
<= 0.25 x its peak memory (``score_report``). Timings are reported, never asserted.

Exit 0 when everything was measured, targets met or not; 1 when a contender failed or the
tables differ.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from score_report import BASELINE, OURS, Measurement, judge, markdown  # noqa: E402
from score_setup import ALIAS, DEFAULT_ROW_GROUP_ROWS, KEY, MODEL  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CHILD = Path(__file__).resolve().parent / "score_child.py"
SETUP = Path(__file__).resolve().parent / "score_setup.py"
CONTENDERS = (BASELINE, OURS)
TABLE = "scores"
QUICK_ROWS = 20_000
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
DEFAULT_JSON = ROOT / "build" / "benchmarks" / "bench_score.json"
DEFAULT_MARKDOWN = ROOT / "build" / "benchmarks" / "bench_score.md"


class BenchError(Exception):
    """A contender failed or the tables disagree."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows to score (1,000,000)")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_ROWS:,} rows")
    parser.add_argument("--seed", type=int, default=12, help="seed of the data and the model")
    parser.add_argument(
        "--row-group-rows", type=int, default=DEFAULT_ROW_GROUP_ROWS,
        help="Parquet row group size (pandas' default, 1,048,576)",
    )  # fmt: skip
    parser.add_argument("--chunk-rows", type=int, help="passed to ours (default: its own)")
    parser.add_argument(
        "--baseline-writer", choices=("sqlite3", "sqlalchemy"), default="sqlite3",
        help="the baseline's to_sql connection: sqlite3 (default, the faster) or an "
        "SQLAlchemy engine on the same URL",
    )  # fmt: skip
    parser.add_argument(
        "--threads", type=int,
        help="OMP_NUM_THREADS (and BLAS threads) of both contenders (default: unset)",
    )  # fmt: skip
    parser.add_argument(
        "--contenders", default=",".join(CONTENDERS), help="comma-separated, of: baseline, ours"
    )
    parser.add_argument(
        "--mlflow-db", type=Path, help="a migrated, empty MLflow SQLite database to copy"
    )
    parser.add_argument("--repeat", type=int, default=1, help="rounds; the fastest is judged")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per contender")
    parser.add_argument("--json-out", type=Path, default=DEFAULT_JSON)
    parser.add_argument("--markdown-out", type=Path, default=DEFAULT_MARKDOWN)
    args = parser.parse_args(argv)
    args.contenders = [c.strip() for c in args.contenders.split(",") if c.strip()]
    unknown = sorted(set(args.contenders) - set(CONTENDERS))
    if unknown or not args.contenders:
        parser.error(f"--contenders: unknown {unknown}; choose from {', '.join(CONTENDERS)}")
    if args.quick:
        args.rows = QUICK_ROWS
    if args.rows < 1 or args.repeat < 1:
        parser.error("--rows and --repeat must be at least 1")
    return args


def prepare(args: argparse.Namespace, work: Path, record: dict[str, object]) -> str:
    """Write the input file and register the model (in a child process: see
    ``score_setup.main``); the tracking URI."""
    started = time.perf_counter()
    command = [sys.executable, str(SETUP), str(work), str(args.rows), str(args.seed)]
    command += [str(args.row_group_rows)] + ([str(args.mlflow_db)] if args.mlflow_db else [])
    done = subprocess.run(command, capture_output=True, text=True, timeout=args.timeout)
    if done.returncode != 0:
        raise BenchError(f"preparing the input and the model failed:\n{done.stderr[-4000:]}")
    prepared = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"input: {args.rows:,} rows, {prepared['bytes'] / 2**20:.1f} MB of Parquet", flush=True)
    print(f"model: {MODEL}@{ALIAS} = version {prepared['version']}", flush=True)
    record["input"] = {
        "rows": args.rows, "bytes": prepared["bytes"], "row_group_rows": args.row_group_rows
    }  # fmt: skip
    record["model"] = {"name": MODEL, "alias": ALIAS, "version": prepared["version"],
                       "class": prepared["class"]}  # fmt: skip
    record["prepare_s"] = round(time.perf_counter() - started, 2)
    return str(prepared["tracking_uri"])


def child_spec(
    contender: str, args: argparse.Namespace, uri: str, folder: Path
) -> dict[str, object]:
    """What ``score_child.py`` needs to run ``contender`` into a new database in ``folder``."""
    database = folder / "scores.db"
    return {
        "contender": contender,
        "tracking_uri": uri,
        "model": f"{MODEL}@{ALIAS}",
        "input": str(folder.parent / "input.parquet"),
        "key": KEY,
        "database": str(database),
        "url": "sqlite:///" + database.as_posix(),
        "table": TABLE,
        "baseline_writer": args.baseline_writer,
        "ours_options": ["--chunk-rows", str(args.chunk_rows)] if args.chunk_rows else [],
        "result": str(folder / "result.json"),
    }


def wait_with_rusage(process: subprocess.Popen[bytes], timeout: float) -> tuple[int, int]:
    """Wait for ``process`` (killed after ``timeout`` s); its exit code and ru_maxrss (kB)."""
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            process.returncode = os.waitstatus_to_exitcode(status)
            return process.returncode, usage.ru_maxrss
        if time.monotonic() > deadline:
            process.kill()
            _, status, usage = os.wait4(process.pid, 0)
            process.returncode = os.waitstatus_to_exitcode(status)
            raise BenchError(f"a contender ran over {timeout:g} s and was killed")
        time.sleep(0.05)


def run_contender(
    contender: str, args: argparse.Namespace, uri: str, folder: Path
) -> tuple[Measurement, str]:
    """Run ``contender`` in a fresh interpreter; its measurement and standard output."""
    folder.mkdir(parents=True)
    spec = child_spec(contender, args, uri, folder)
    (folder / "spec.json").write_text(json.dumps(spec))
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri, "PYTHONUNBUFFERED": "1"}
    if args.threads:
        env.update(dict.fromkeys(THREAD_VARIABLES, str(args.threads)))
    with open(folder / "stdout", "wb") as out, open(folder / "stderr", "wb") as err:
        process = subprocess.Popen(
            [sys.executable, str(CHILD), str(folder / "spec.json")], stdout=out, stderr=err, env=env
        )
        try:
            code, peak_kb = wait_with_rusage(process, args.timeout)
        finally:
            if process.returncode is None:
                process.kill()
                process.wait()
    stdout = (folder / "stdout").read_text(errors="replace")
    if code != 0 or not (folder / "result.json").exists():
        stderr = (folder / "stderr").read_text(errors="replace")[-4000:]
        raise BenchError(f"{contender} failed (exit {code}):\n{stdout[-2000:]}\n{stderr}")
    result = json.loads((folder / "result.json").read_text())
    measured = Measurement(
        contender, args.rows, result["seconds"], result["floor_rss_kb"], peak_kb, result["vmhwm_kb"]
    )
    return measured, stdout


def table_digest(database: Path) -> dict[str, object]:
    """Row count and SHA-256 of ``key<TAB>prediction`` lines in key order of the scores table."""
    digest = hashlib.sha256()
    rows = 0
    with sqlite3.connect(database) as connection:
        cursor = connection.execute(f'SELECT "{KEY}", "prediction" FROM "{TABLE}" ORDER BY "{KEY}"')
        while batch := cursor.fetchmany(100_000):
            rows += len(batch)
            digest.update("".join(f"{key}\t{_exact(value)}\n" for key, value in batch).encode())
    connection.close()
    return {"rows": rows, "sha256": digest.hexdigest()}


def _exact(value: object) -> object:
    """A class label as one text whether the table stored it as 1, 1.0 or '1'."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return value


def measure_all(
    args: argparse.Namespace, uri: str, work: Path, record: dict[str, object]
) -> tuple[list[Measurement], dict[str, dict[str, object]]]:
    """Every contender ``--repeat`` times, interleaved; every run and the last tables' digests."""
    runs: list[Measurement] = []
    tables: dict[str, dict[str, object]] = {}
    outputs: dict[str, str] = {}
    for round_ in range(args.repeat):
        for contender in args.contenders:
            folder = work / f"{contender}-{round_}"
            measured, outputs[contender] = run_contender(contender, args, uri, folder)
            runs.append(measured)
            tables[contender] = table_digest(folder / "scores.db")
            print(
                f"{contender}: {measured.rows_per_s:,.0f} rows/s, peak "
                f"{measured.peak_rss_kb / 1024:.0f} MB ({measured.above_floor_kb / 1024:.0f} MB "
                "above its floor)",
                flush=True,
            )
            (folder / "scores.db").unlink(missing_ok=True)
    record["ours_output"] = outputs.get(OURS, "")[-2000:]
    return runs, tables


def fastest(runs: list[Measurement]) -> list[Measurement]:
    """Per contender, the run with the most rows/s (the least disturbed)."""
    best: dict[str, Measurement] = {}
    for m in runs:
        if m.contender not in best or m.rows_per_s > best[m.contender].rows_per_s:
            best[m.contender] = m
    return list(best.values())


def report(args: argparse.Namespace, record: dict[str, object], runs: list[Measurement],
           tables: dict[str, dict[str, object]]) -> None:  # fmt: skip
    """Print the markdown report; write it and the JSON results."""
    best = fastest(runs)
    by_name = {m.contender: m for m in best}
    verdicts = judge(by_name[OURS], by_name[BASELINE]) if len(by_name) == 2 else []
    settings = {
        "rows": f"{args.rows:,}",
        "chunk rows (ours)": args.chunk_rows or "default",
        "baseline writer": args.baseline_writer,
        "threads": args.threads or "library default",
        "rounds": args.repeat,
        "cpus": os.cpu_count(),
    }
    text = markdown(settings, best, verdicts, tables)
    print("\n" + text)
    same = len({(t["rows"], t["sha256"]) for t in tables.values()}) <= 1
    record.update(
        finished=datetime.now(UTC).isoformat(timespec="seconds"),
        load_after=os.getloadavg(),
        parent_peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        measurements=[m.to_dict() for m in best],
        runs=[m.to_dict() for m in runs],
        tables=tables,
        same_predictions=same,
        targets=verdicts,
    )
    if not same and not record.get("error"):
        record["error"] = "the contenders' tables hold different predictions"
    for path, content in ((args.json_out, json.dumps(record, indent=2) + "\n"),
                          (args.markdown_out, text)):  # fmt: skip
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    print(f"results: {args.json_out}, {args.markdown_out}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # runs the finally blocks
    work = Path(tempfile.mkdtemp(prefix="bench-score-"))
    record: dict[str, object] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "load_before": os.getloadavg(),
        "error": None,
    }
    runs: list[Measurement] = []
    tables: dict[str, dict[str, object]] = {}
    try:
        uri = prepare(args, work, record)
        runs, tables = measure_all(args, uri, work, record)
    except BenchError as error:
        record["error"] = str(error)
        print(f"error: {error}", file=sys.stderr)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report(args, record, runs, tables)
    return 1 if record["error"] else 0


if __name__ == "__main__":
    sys.exit(main())
