"""Serving benchmark: ``jupyter mlops serve`` against ``mlflow models serve``, same model and load.

Run: ``make bench-serve`` (installs wrk) or ``.venv/bin/python benchmarks/bench_serve.py
[--quick] [--servers mlflow,ours,ours-unbatched] [--json-out FILE]``.

One run trains and registers the classification example (``notebooks/classification.ipynb``
extracted and run into a temporary MLflow SQLite store: model ``classification``, alias
``challenger``), then starts every server on 127.0.0.1 and a free port, waits for each
``GET /ping``, checks that one request gets 200 and the same predictions from every server,
warms each up and loads them one at a time with wrk: 1-row ``dataframe_split`` requests (the
model's input example) at 8 and 32 connections, interleaved (each client count, each server
in turn; ``--repeat`` rounds, the best judged) so that outside load affects each alike. Per
server and load: requests/s, p50/p90/p99 latency, errors, and the CPU time per request of the
server's process tree (and of wrk). Ratios to mlflow, measured in the same run, are judged
against issue 11's targets (``serve_report``).

Exit 0 when everything was measured, met or not (a measurement); 1 when a server failed to
start, disagreed on the predictions, or answered errors under load.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from serve_processes import (  # noqa: E402
    HOST,
    Server,
    ServerError,
    free_port,
    post_json,
    start_server,
    stop_server,
    tree_cpu_seconds,
    wait_ready,
)
from serve_report import Measurement, judge, table, verdict_lines  # noqa: E402
from wrk_output import WrkOutputError, parse_wrk  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
LOAD_SCRIPT = Path(__file__).resolve().parent / "serve_load.lua"
MODEL, ALIAS = "classification", "challenger"
SERVERS = ("mlflow", "ours", "ours-unbatched")
DEFAULT_JSON = ROOT / "build" / "benchmarks" / "bench_serve.json"


def server_command(name: str, port: int, tracking_uri: str, work: Path) -> list[str]:
    """The command line that serves ``MODEL@ALIAS`` as server ``name`` on ``port``.

    Ours runs in its default configuration (request log on, in its own folder under ``work``).
    """
    if name == "mlflow":
        return [str(BIN / "mlflow"), "models", "serve", "-m", f"models:/{MODEL}@{ALIAS}"] + [
            "--env-manager", "local", "--host", HOST, "-p", str(port)
        ]  # fmt: skip
    ours = [str(BIN / "jupyter-mlops"), "serve", MODEL, "--alias", ALIAS, "--host", HOST] + [
        "--port", str(port), "--tracking-uri", tracking_uri, "--log-dir", str(work / f"{name}-log")
    ]  # fmt: skip
    return ours + ["--no-batch"] if name == "ours-unbatched" else ours


def server_env(tracking_uri: str) -> dict[str, str]:
    """The servers' environment: this venv first on PATH (mlflow execs ``uvicorn``), the store."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    env["MLFLOW_TRACKING_URI"] = tracking_uri
    env.pop("JUPYTER_MLOPS_SERVE_TOKEN", None)  # 127.0.0.1 needs no token; wrk sends none
    return env


def prepare_model(work: Path) -> str:
    """Extract and run the classification example into a new store; its tracking URI."""
    notebook = work / "classification.ipynb"
    shutil.copy(ROOT / "notebooks" / notebook.name, notebook)
    tracking_uri = f"sqlite:///{work / 'mlflow.db'}"
    mlops = str(BIN / "jupyter-mlops")
    for command in (
        [mlops, "extract", notebook.name, "-o", "pipeline"],
        [mlops, "run", "pipeline", "--engine", "inprocess", "--tracking-uri", tracking_uri],
    ):
        done = subprocess.run(command, cwd=work, capture_output=True, text=True)
        if done.returncode != 0:
            raise ServerError(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    return tracking_uri


def request_body(tracking_uri: str) -> tuple[bytes, str]:
    """A 1-row ``dataframe_split`` body from the registered model's input example; its version."""
    import mlflow

    mlflow.set_tracking_uri(tracking_uri)
    version = mlflow.MlflowClient().get_model_version_by_alias(MODEL, ALIAS).version
    folder = Path(mlflow.artifacts.download_artifacts(f"models:/{MODEL}@{ALIAS}"))
    example = json.loads((folder / "serving_input_example.json").read_text())["dataframe_split"]
    row = {"columns": example["columns"], "data": example["data"][:1]}
    return json.dumps({"dataframe_split": row}).encode(), str(version)


def check_answer(server: Server, body: bytes, reference: tuple[str, object] | None) -> object:
    """Predictions for ``body``; :class:`ServerError` if not 200 or unlike the first server's."""
    status, text = post_json(server.url + "/invocations", body)
    if status != 200:
        raise ServerError(f"{server.name} answered {status} to the input example: {text}")
    predictions = json.loads(text).get("predictions")
    if reference is not None and predictions != reference[1]:
        raise ServerError(
            f"the servers disagree on the input example's predictions:\n"
            f"  {reference[0]}: {reference[1]}\n  {server.name}: {predictions}"
        )
    return predictions


def run_wrk(
    server: Server, connections: int, seconds: float, threads: int, body_file: Path
) -> tuple[str, float]:
    """wrk's report of one load on ``/invocations`` and the CPU seconds wrk itself used."""
    command = ["wrk", f"-t{min(threads, connections)}", f"-c{connections}", f"-d{seconds:g}s"]
    command += [
        "--latency",
        "--timeout",
        "30s",
        "-s",
        str(LOAD_SCRIPT),
        server.url + "/invocations",
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        env={**os.environ, "BENCH_SERVE_BODY": str(body_file)},
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise ServerError(
            f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr}\n"
            f"{server.name}'s last output:\n{server.log_tail()}"
        )
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return done.stdout, cpu


def measure(
    server: Server, connections: int, args: argparse.Namespace, body_file: Path
) -> Measurement:
    """One wrk load of ``server`` at ``connections`` clients, with the server's CPU time."""
    cpu_before = tree_cpu_seconds(server.process.pid)
    report, wrk_cpu = run_wrk(server, connections, args.duration, args.wrk_threads, body_file)
    server_cpu = tree_cpu_seconds(server.process.pid) - cpu_before
    return Measurement(server.name, connections, parse_wrk(report), server_cpu, wrk_cpu)


@dataclass
class Session:
    """What one benchmark run learned: the store, the request body, the first server's answer."""

    tracking_uri: str = ""
    body: bytes = b""
    body_file: Path = Path()
    reference: tuple[str, object] | None = None
    record: dict[str, object] = field(default_factory=dict)
    servers: dict[str, dict[str, object]] = field(default_factory=dict)
    runs: list[Measurement] = field(default_factory=list)

    def best(self) -> list[Measurement]:
        """Per server and client count, the run with the most requests/s (least disturbed)."""
        best: dict[tuple[str, int], Measurement] = {}
        for m in self.runs:
            key = (m.server, m.connections)
            if key not in best or m.wrk.requests_per_s > best[key].wrk.requests_per_s:
                best[key] = m
        return list(best.values())


def start_servers(
    started: list[Server], session: Session, args: argparse.Namespace, work: Path
) -> None:
    """Start every selected server, each appended to ``started`` (stopped by the caller)."""
    for name in args.servers:
        port = free_port()
        command = server_command(name, port, session.tracking_uri, work)
        session.servers[name] = {"command": command}
        started.append(start_server(name, command, port, server_env(session.tracking_uri), work))


def check_servers(servers: list[Server], session: Session, args: argparse.Namespace) -> None:
    """Wait for each server's ``GET /ping``, compare its answer to the first's, warm it up."""
    ready = wait_ready(servers, args.ready_timeout)
    for server in servers:
        predictions = check_answer(server, session.body, session.reference)
        session.reference = session.reference or (server.name, predictions)
        seconds = ready[server.name]
        session.servers[server.name]["ready_s"] = round(seconds, 2)
        print(f"{server.name}: ready {seconds:.1f} s after start; answer {predictions}", flush=True)
    for server in servers:
        run_wrk(server, max(args.connections), args.warmup, args.wrk_threads, session.body_file)


def load_servers(servers: list[Server], session: Session, args: argparse.Namespace) -> None:
    """Each server at each client count, interleaved so outside load affects each alike."""
    for repeat in range(args.repeat):
        for connections in args.connections:
            for server in servers:
                session.runs.append(measure(server, connections, args, session.body_file))
        print(f"round {repeat + 1} of {args.repeat} measured", flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--servers", default=",".join(SERVERS), help="comma-separated, of: " + ", ".join(SERVERS)
    )
    parser.add_argument(
        "--duration", type=float, default=10.0, help="seconds of load per measurement"
    )
    parser.add_argument(
        "--warmup", type=float, default=3.0, help="seconds of load before measuring"
    )
    parser.add_argument("--quick", action="store_true", help="3 s of load, 2 s of warm-up")
    parser.add_argument("--connections", default="8,32", help="client counts (default 8,32)")
    parser.add_argument("--wrk-threads", type=int, default=1, help="wrk -t (default 1)")
    parser.add_argument(
        "--repeat", type=int, default=1, help="rounds of loads; the best of them is judged"
    )
    parser.add_argument(
        "--ready-timeout", type=float, default=180.0, help="seconds to wait for GET /ping"
    )
    parser.add_argument("--json-out", type=Path, default=DEFAULT_JSON)
    args = parser.parse_args(argv)
    args.servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    unknown = sorted(set(args.servers) - set(SERVERS))
    if unknown or not args.servers:
        parser.error(f"--servers: unknown {unknown}; choose from {', '.join(SERVERS)}")
    args.connections = [int(c) for c in args.connections.split(",")]
    if args.quick:
        args.duration, args.warmup = 3.0, 2.0
    return args


def preflight(servers: list[str]) -> None:
    """:class:`ServerError` when wrk or ``jupyter mlops serve`` is missing."""
    if shutil.which("wrk") is None:
        raise ServerError(
            "wrk is not installed: `make bench-serve` installs it (apt-get install wrk)"
        )
    if any(s.startswith("ours") for s in servers):
        done = subprocess.run([str(BIN / "jupyter-mlops"), "serve", "--help"], capture_output=True)
        if done.returncode != 0:
            raise ServerError(
                "`jupyter mlops serve` is not available in this install: run with --servers mlflow"
            )


def report(session: Session, args: argparse.Namespace) -> None:
    """Print the tables and verdicts; write the JSON results file."""
    measurements = session.best()
    for connections in args.connections if measurements else []:
        threads = min(args.wrk_threads, connections)
        best = f", best of {args.repeat}" if args.repeat > 1 else ""
        print(
            f"\n{connections} clients (wrk -t{threads} -c{connections} -d{args.duration:g}s{best}):"
        )
        print(table(measurements, connections))
    verdicts = judge(measurements)
    if verdicts:
        print("\nours / mlflow (targets of issue 11; `ours` is the default configuration):")
        print("\n".join(verdict_lines(verdicts)))
    session.record.update(
        finished=datetime.now(UTC).isoformat(timespec="seconds"),
        load_after=os.getloadavg(),
        servers=session.servers,
        measurements=[m.to_dict() for m in measurements],
        runs=[m.to_dict() for m in session.runs],
        targets=verdicts,
    )
    args.json_out.parent.mkdir(parents=True, exist_ok=True)
    args.json_out.write_text(json.dumps(session.record, indent=2) + "\n")
    print(f"\nresults: {args.json_out}")


def run(args: argparse.Namespace, work: Path, session: Session) -> None:
    """Train and register the model, start the servers, load them; stop them whatever happens."""
    preflight(args.servers)
    print(f"training and registering {MODEL} (the example pipeline) ...", flush=True)
    session.tracking_uri = prepare_model(work)
    session.body, version = request_body(session.tracking_uri)
    session.body_file = work / "body.json"
    session.body_file.write_bytes(session.body)
    session.record["model"] = {"name": MODEL, "alias": ALIAS, "version": version}
    session.record["request_body"] = json.loads(session.body)
    servers: list[Server] = []
    try:
        start_servers(servers, session, args, work)
        check_servers(servers, session, args)
        load_servers(servers, session, args)
    finally:
        for server in servers:
            stop_server(server)
    failing = sorted({m.server for m in session.runs if m.wrk.errors})
    if failing:
        raise ServerError(f"errors under load from: {', '.join(failing)} (see the tables)")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # runs the finally blocks
    work = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    session = Session()
    session.record.update(
        started=datetime.now(UTC).isoformat(timespec="seconds"),
        cpus=os.cpu_count(),
        load_before=os.getloadavg(),
        settings={
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "wrk_threads": args.wrk_threads,
            "repeat": args.repeat,
            "connections": args.connections,
        },
        error=None,
    )
    try:
        run(args, work, session)
    except (ServerError, WrkOutputError) as error:
        session.record["error"] = str(error)
        print(f"error: {error}", file=sys.stderr)
    except KeyboardInterrupt:
        session.record["error"] = "interrupted"
        print("interrupted: every server stopped", file=sys.stderr)
        return 130
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report(session, args)
    return 1 if session.record["error"] else 0


if __name__ == "__main__":
    sys.exit(main())
