"""Registered models and a real ``jupyter mlops serve`` process on 127.0.0.1, for tests.

``register`` logs a model the way a pipeline run does (sealed, with signature and input
example) in a fresh run; ``Service`` starts the CLI on port 0, reads the ready line for the
port, and stops the process (and checks it stopped) on exit.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlflow_fixtures import client_for, sqlite_uri

from jupyter_mlops.registry.models import log_and_register_model

CLI = [sys.executable, "-m", "jupyter_mlops.cli"]
START_TIMEOUT = 120


def new_store(template: Path, folder: Path) -> str:
    """A fresh MLflow store in ``folder`` copied from the migrated template."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, folder / "mlflow.db")
    return sqlite_uri(folder / "mlflow.db")


def register(uri: str, name: str, model: Any, frame: Any, alias: str | None = None) -> str:
    """Register ``model`` (fitted on DataFrame ``frame``) as a new version of ``name``."""
    client = client_for(uri)
    experiment = client.get_experiment_by_name(name)
    experiment_id = experiment.experiment_id if experiment else client.create_experiment(name)
    run = client.create_run(experiment_id)
    version = log_and_register_model(
        uri, run.info.run_id, model, {"X": frame}, name, {}, alias=alias
    )
    client.set_terminated(run.info.run_id)
    return version


@dataclass
class Reply:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def http(
    url: str,
    body: bytes | None = None,
    content_type: str = "application/json",
    headers: Mapping[str, str] | None = None,
    method: str | None = None,
) -> Reply:
    """One request; any status comes back as a Reply (no exception for 4xx/5xx)."""
    request = urllib.request.Request(
        url, data=body, method=method or ("POST" if body is not None else "GET")
    )
    if body is not None:
        request.add_header("Content-Type", content_type)
    for key, value in (headers or {}).items():
        request.add_header(key, value)
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return Reply(
                answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read()
            )
    except urllib.error.HTTPError as error:
        return Reply(error.code, {k.lower(): v for k, v in error.headers.items()}, error.read())


class Service:
    """``jupyter mlops serve MODEL --port 0 …`` in a subprocess; a context manager."""

    def __init__(
        self, uri: str, model: str, *args: str, cwd: Path, env: Mapping[str, str] | None = None
    ) -> None:
        self.command = [*CLI, "serve", model, "--port", "0", "--tracking-uri", uri, *args]
        self.cwd = cwd
        self.env = {**os.environ, **(env or {})}
        self.process: subprocess.Popen[str] | None = None
        self.url = ""
        self.output: list[str] = []

    def __enter__(self) -> Service:
        self.process = subprocess.Popen(
            self.command,
            cwd=self.cwd,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        ready = threading.Event()
        threading.Thread(target=self._read, args=(ready,), daemon=True).start()
        if not ready.wait(START_TIMEOUT) or not self.url:
            self.stop()
            raise AssertionError("service did not start:\n" + "".join(self.output))
        return self

    def _read(self, ready: threading.Event) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            if line.startswith("serving ") and " on http://" in line:
                self.url = line.split(" on ", 1)[1].split()[0]
                ready.set()
        ready.set()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> int | None:
        """SIGINT, as Ctrl-C would; the exit code."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            raise AssertionError(
                "service did not stop on SIGINT:\n" + "".join(self.output)
            ) from None

    def get(self, path: str, **kwargs: Any) -> Reply:
        return http(self.url + path, **kwargs)

    def post(
        self, path: str, body: Any, content_type: str = "application/json", **kwargs: Any
    ) -> Reply:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        return http(self.url + path, data, content_type, **kwargs)
