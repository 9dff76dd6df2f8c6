"""Start, probe and stop the prediction servers the serving benchmark measures.

Each server runs in its own process group (its CLI and every worker it starts), bound to
127.0.0.1 on a port free at start time, its output in a log file; stopping it signals the
whole group (SIGTERM, then SIGKILL after a grace period).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import psutil

HOST = "127.0.0.1"


class ServerError(RuntimeError):
    """A server did not start, exited, or answered a check wrongly."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now (bind to port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    """A started server: its name, command line, process (group leader), port, log file, and
    when it was started (``time.monotonic()``)."""

    name: str
    command: list[str]
    process: subprocess.Popen[bytes]
    port: int
    log: Path
    started: float

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def log_tail(self, lines: int = 30) -> str:
        """The last ``lines`` lines of the server's output."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def start_server(
    name: str, command: list[str], port: int, env: dict[str, str], cwd: Path
) -> Server:
    """Start ``command`` in a new process group with its output in ``cwd/<name>.log``."""
    log = cwd / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    return Server(name, command, process, port, log, time.monotonic())


def wait_ready(servers: list[Server], timeout_s: float) -> dict[str, float]:
    """Per server, seconds from its start until ``GET /ping`` answered 200 (all polled together);
    :class:`ServerError` when one exits, or is not ready ``timeout_s`` after its start."""
    ready: dict[str, float] = {}
    while len(ready) < len(servers):
        for server in servers:
            if server.name not in ready and pings(server, timeout_s):
                ready[server.name] = time.monotonic() - server.started
        time.sleep(0.25)
    return ready


def pings(server: Server, timeout_s: float) -> bool:
    """Whether ``GET /ping`` answers 200 now; :class:`ServerError` on exit or after the timeout."""
    if server.process.poll() is not None:
        raise ServerError(
            f"{server.name} exited with status {server.process.returncode} before it was"
            f" ready; its last output:\n{server.log_tail()}"
        )
    if time.monotonic() - server.started > timeout_s:
        raise ServerError(
            f"{server.name} did not answer 200 on GET /ping within {timeout_s:g} s; its last"
            f" output:\n{server.log_tail()}"
        )
    try:
        with urllib.request.urlopen(server.url + "/ping", timeout=2) as answer:
            return bool(answer.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def post_json(url: str, body: bytes) -> tuple[int, str]:
    """Status and body text of one ``POST`` of ``body`` as application/json."""
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` and its descendants (live and reaped)."""
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


def stop_server(server: Server, grace_s: float = 10.0) -> None:
    """Stop the server's whole process group: SIGTERM, then SIGKILL after ``grace_s``."""
    if server.process.poll() is None:
        signal_group(server.process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.process.wait(timeout=grace_s)
    # Workers may outlive the leader: the group gets SIGKILL whatever the leader did.
    signal_group(server.process.pid, signal.SIGKILL)
    server.process.wait()


def signal_group(pgid: int, signum: int) -> None:
    """Send ``signum`` to process group ``pgid``; nothing if the group is gone."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)
