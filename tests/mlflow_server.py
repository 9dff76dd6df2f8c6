"""A real ``mlflow server`` on PostgreSQL for tests: a pytest plugin.

``mlflow_server`` starts the venv's ``mlflow server`` on a free port of 127.0.0.1, its
backend store a fresh PostgreSQL database (``fresh_postgres_url`` of ``postgres_server.py``,
psycopg 3 driver: ``postgresql+psycopg://``), its artifacts proxied (``--serve-artifacts``)
into a folder of the test's tmp dir; it waits for ``/health`` and, after the test, stops the
server's whole process group and checks that it is gone. ``start_mlflow_server`` and
``stop_mlflow_server`` let a test kill a server and start it again on the same port and
database. Loaded by the top-level conftest (``pytest_plugins``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

MLFLOW = Path(sys.executable).parent / "mlflow"
WORKERS = 2
HEALTHCHECK_SECONDS = 60  # uvicorn's 5 s restarts workers still importing on a busy machine
START_TIMEOUT = 120.0
STOP_TIMEOUT = 30.0


@dataclass(frozen=True)
class MlflowServer:
    """A running ``mlflow server``: its URL, backend store, artifact folder, process, log."""

    port: int
    backend_uri: str
    artifacts: Path
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def healthy(url: str) -> bool:
    """``url``'s ``/health`` answers 200."""
    try:
        with urllib.request.urlopen(url + "/health", timeout=2) as answer:
            return bool(answer.status == 200)
    except (OSError, urllib.error.URLError):
        return False


def start_mlflow_server(
    backend_uri: str, artifacts: Path, log: Path, port: int | None = None
) -> MlflowServer:
    """Start ``mlflow server`` in its own process group and wait until ``/health`` answers
    (the first start on a database also creates MLflow's tables)."""
    port = port or free_port()
    command = [str(MLFLOW), "server", "--backend-store-uri", backend_uri,
               "--serve-artifacts", "--artifacts-destination", str(artifacts),
               "--host", "127.0.0.1", "--port", str(port), "--workers", str(WORKERS),
               "--uvicorn-opts", f"--timeout-worker-healthcheck {HEALTHCHECK_SECONDS}"]  # fmt: skip
    with log.open("ab") as output:
        process = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = MlflowServer(port, backend_uri, artifacts, process, log)
    deadline = time.monotonic() + START_TIMEOUT
    while not healthy(server.url):
        if process.poll() is not None or time.monotonic() > deadline:
            stop_mlflow_server(server)
            raise RuntimeError(f"mlflow server did not start:\n{server.log_text()[-4000:]}")
        time.sleep(0.2)
    return server


def stop_mlflow_server(server: MlflowServer, sig: signal.Signals = signal.SIGTERM) -> None:
    """Send ``sig`` to the server's process group (the ``mlflow`` command and its uvicorn
    workers), wait for the command, and check that no process of the group is left."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.process.pid, sig)
    try:
        server.process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait(timeout=STOP_TIMEOUT)
    deadline = time.monotonic() + STOP_TIMEOUT
    while _group_alive(server.process.pid):
        if time.monotonic() > deadline:
            os.killpg(server.process.pid, signal.SIGKILL)
            raise AssertionError("mlflow server workers still running after the stop")
        time.sleep(0.1)
    assert not healthy(server.url), "mlflow server still answers after the stop"


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def mlflow_server(fresh_postgres_url: str, tmp_path: Path) -> Iterator[MlflowServer]:
    """An ``mlflow server`` on a fresh PostgreSQL database, artifacts in ``tmp_path``;
    stopped (and checked stopped) after the test, also when the test stopped it already."""
    artifacts = tmp_path / "mlflow-artifacts"
    artifacts.mkdir()
    server = start_mlflow_server(fresh_postgres_url, artifacts, tmp_path / "mlflow-server.log")
    yield server
    stop_mlflow_server(server)
