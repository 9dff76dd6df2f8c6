"""A real Dask cluster (``dask scheduler`` + ``dask worker`` processes on 127.0.0.1) and an
S3-compatible server (moto's server mode) for the Dask executor's tests and benchmark."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

BIN = Path(sys.executable).parent
STARTUP_SECONDS = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class DaskCluster:
    """A scheduler and its workers, each a ``dask`` subprocess logging to ``logs``."""

    logs: Path
    env: dict[str, str]
    resources: str = "cpu=2,memory=4e9"
    port: int = 0
    scheduler: subprocess.Popen[bytes] | None = None
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def address(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def start(self, workers: int) -> None:
        self.port = free_port()
        self.scheduler = self._spawn(
            "scheduler",
            ["scheduler", "--host", "127.0.0.1", "--port", str(self.port),
             "--dashboard-address", ":0", "--no-show"],
        )  # fmt: skip
        _wait(lambda: listening(self.port), "the dask scheduler", self.logs / "scheduler.log")
        for _ in range(workers):
            self.add_worker()
        self.wait_for_workers(workers)

    def add_worker(self) -> subprocess.Popen[bytes]:
        name = f"worker-{len(self.workers)}"
        worker = self._spawn(
            name,
            [
                "worker", self.address, "--nthreads", "1", "--no-nanny", "--name", name,
                "--host", "127.0.0.1", "--dashboard-address", ":0", "--resources", self.resources,
            ],
        )  # fmt: skip
        self.workers.append(worker)
        return worker

    def alive_workers(self) -> list[subprocess.Popen[bytes]]:
        return [w for w in self.workers if w.poll() is None]

    def wait_for_workers(self, count: int) -> None:
        from distributed import Client

        with Client(self.address, timeout="20s") as client:
            client.wait_for_workers(count, timeout=STARTUP_SECONDS)

    def worker_pids(self) -> dict[str, int]:
        """Worker address → process id (asked of the workers themselves)."""
        from distributed import Client

        with Client(self.address, timeout="20s") as client:
            return dict(client.run(os.getpid))

    def stop(self) -> None:
        """SIGTERM the workers, then the scheduler (a worker whose scheduler went first waits
        to reconnect); kill what has not ended in 20 s."""
        for group in (self.workers, [self.scheduler]):
            running = [p for p in group if p is not None and p.poll() is None]
            for process in running:
                process.send_signal(signal.SIGTERM)
            for process in running:
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=10)

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        self.logs.mkdir(parents=True, exist_ok=True)
        with open(self.logs / f"{name}.log", "ab") as log:
            return subprocess.Popen(
                [str(BIN / "dask"), *args],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **self.env},
                start_new_session=True,
            )


@dataclass
class S3Server:
    """moto's S3 server on a free port, with the environment that points clients at it."""

    port: int = 0
    server: object = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        return {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": self.endpoint,
        }

    def start(self) -> None:
        from moto.server import ThreadedMotoServer

        self.port = free_port()
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
        self.server.start()  # type: ignore[attr-defined]
        _wait(lambda: listening(self.port), "the moto S3 server", None)

    def create_bucket(self, name: str) -> None:
        import boto3

        client = boto3.client("s3", endpoint_url=self.endpoint, **_credentials(self.env))
        client.create_bucket(Bucket=name)

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()  # type: ignore[attr-defined]


def _credentials(env: dict[str, str]) -> dict[str, str]:
    return {
        "aws_access_key_id": env["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": env["AWS_SECRET_ACCESS_KEY"],
        "region_name": env["AWS_DEFAULT_REGION"],
    }


def _wait(ready: object, what: str, log: Path | None) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if ready():  # type: ignore[operator]
            return
        time.sleep(0.1)
    detail = log.read_text(errors="replace")[-2000:] if log is not None and log.exists() else ""
    raise RuntimeError(f"{what} did not start in {STARTUP_SECONDS} s\n{detail}")
