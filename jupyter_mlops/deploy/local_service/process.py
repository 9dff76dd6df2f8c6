"""A ``jupyter mlops serve`` process running detached (its own session, output to a file):
started, waited for until ``/health`` answers, and stopped by its process id."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from jupyter_mlops.deploy.rollout.service_client import ServiceClient
from jupyter_mlops.errors import DeployError
from jupyter_mlops.execute.pids import pid_exists

START_TIMEOUT = 120.0
STOP_TIMEOUT = 30.0
POLL = 0.2
_READY = re.compile(r"^serving \S+ on (http://\S+)", re.MULTILINE)


@dataclass(frozen=True)
class ServiceCommand:
    """What to serve and where: model ``model`` following ``alias`` of registry
    ``tracking_uri``, on ``host``:``port`` (0: a free port)."""

    model: str
    alias: str
    tracking_uri: str
    host: str = "127.0.0.1"
    port: int = 0
    poll_interval: str = "1s"

    def argv(self, log_dir: Path) -> list[str]:
        """The command line."""
        return [
            *(sys.executable, "-m", "jupyter_mlops.cli", "serve", self.model),
            *("--alias", self.alias, "--host", self.host, "--port", str(self.port)),
            *("--tracking-uri", self.tracking_uri, "--poll-interval", self.poll_interval),
            *("--log-dir", str(log_dir)),
        ]


def remove_service_files(output: Path) -> None:
    """Remove a service's output file and its request log folder."""
    output.unlink(missing_ok=True)
    shutil.rmtree(output.with_suffix(".requests"), ignore_errors=True)


def start_service(command: ServiceCommand, output: Path) -> tuple[int, str]:
    """Start the service detached, its output in ``output`` (its request log beside it);
    returns (process id, URL) once ``/health`` answers 200. ``DeployError`` with the end of
    its output when it exits or does not get ready in time (the process is stopped)."""
    output.parent.mkdir(parents=True, exist_ok=True)
    log_dir = output.with_suffix(".requests")
    with output.open("w") as sink:
        process = subprocess.Popen(
            command.argv(log_dir),
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        url = _wait_ready(process, output)
    except BaseException:
        stop_process(process.pid)
        process.wait()
        raise
    return process.pid, url


def _wait_ready(process: subprocess.Popen[bytes], output: Path) -> str:
    """The service's URL once it announced it and ``/health`` answers 200."""
    deadline = time.monotonic() + START_TIMEOUT
    url = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise DeployError(
                f"the prediction service exited with code {process.returncode}: {_tail(output)}",
                path=str(output),
            )
        if url is None:
            found = _READY.search(output.read_text(errors="replace"))
            url = found.group(1) if found else None
        if url is not None and _healthy(url):
            return url
        time.sleep(POLL)
    raise DeployError(
        f"the prediction service did not get ready within {START_TIMEOUT:g}s: {_tail(output)}",
        path=str(output),
    )


def _healthy(url: str) -> bool:
    try:
        return ServiceClient(url, timeout=5).request("GET", "/health").status == 200
    except DeployError:
        return False


def _tail(output: Path, lines: int = 5) -> str:
    text = output.read_text(errors="replace").strip() if output.exists() else ""
    return " | ".join(text.splitlines()[-lines:]) or "no output"


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie child of ours counts as gone)."""
    try:
        finished, _ = os.waitpid(pid, os.WNOHANG)
        if finished == pid:
            return False
    except ChildProcessError:
        pass  # not our child
    return pid_exists(pid)


def is_service(pid: int) -> bool:
    """Whether ``pid`` runs a ``jupyter_mlops.cli serve`` command (not a process that got
    the id of a service since gone); without /proc, whether it runs at all."""
    cmdline = Path(f"/proc/{pid}/cmdline")
    if not process_alive(pid):
        return False
    try:
        words = cmdline.read_bytes().split(b"\0")
    except FileNotFoundError:
        return not Path("/proc/self").exists() and process_alive(pid)
    return b"jupyter_mlops.cli" in words and b"serve" in words


def stop_process(pid: int) -> None:
    """SIGINT to the service's process group, as Ctrl-C would; SIGKILL when it is still
    there after ``STOP_TIMEOUT``. Nothing when ``pid`` is no service of ours."""
    if not is_service(pid):
        return
    for sig, wait in ((signal.SIGINT, STOP_TIMEOUT), (signal.SIGKILL, STOP_TIMEOUT)):
        if not process_alive(pid):
            return
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while process_alive(pid) and time.monotonic() < deadline:
            time.sleep(POLL)
    if process_alive(pid):
        raise DeployError(f"the prediction service (process {pid}) did not stop")
