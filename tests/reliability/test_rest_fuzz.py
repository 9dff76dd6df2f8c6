"""Schemathesis against the server extension's OpenAPI description, on a real Jupyter server.

A ``jupyter server`` process (127.0.0.1, a free port, a token) serves a root holding two
notebooks, a symlink leading out of the root and a ``pipelines`` symlink leading out too.
Every operation of ``jupyter_mlops/server/openapi.yaml`` gets generated requests (valid and
invalid); each answer must be no 5xx, no traceback, a documented status with JSON of the
documented shape, and nothing may appear outside the root. Examples come from a fixed seed
so ``make test`` is repeatable; ``JUPYTER_MLOPS_FUZZ_EXAMPLES=500`` runs a longer search.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
import yaml
from hypothesis import HealthCheck, settings
from nbfactory import write_notebook
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

import jupyter_mlops.server
from jupyter_mlops.server.handlers import handlers

SPEC = Path(jupyter_mlops.server.__file__).parent / "openapi.yaml"
LONG_RUN = int(os.environ.get("JUPYTER_MLOPS_FUZZ_EXAMPLES", "0"))
CELLS: list[Any] = [
    "import numpy as np",
    ("n = 20", ["parameters"]),
    "%%mlstep load\nX = np.arange(n, dtype=float).reshape(-1, 1)",
    "%%mlstep total\ntotal = float(X.sum())",
]
schema = schemathesis.openapi.from_path(SPEC)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A real Jupyter server with the extension, its base URL, token and folders."""
    base = tmp_path_factory.mktemp("fuzz")
    root, outside = base / "root", base / "outside"
    (root / "work").mkdir(parents=True)
    outside.mkdir()
    write_notebook(root / "flow.ipynb", CELLS)
    write_notebook(root / "work" / "flow.ipynb", CELLS)
    (root / "pipelines").symlink_to(outside, target_is_directory=True)
    (root / "work" / "escape").symlink_to(outside, target_is_directory=True)
    token, port = secrets.token_hex(16), _free_port()
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{base / 'mlflow.db'}"}
    command = [
        sys.executable, "-m", "jupyter_server", f"--ServerApp.root_dir={root}",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", "--ServerApp.open_browser=False",
        "--ServerApp.allow_root=True",
        "--ServerApp.jpserver_extensions={'jupyter_mlops.server': True}",
    ]  # fmt: skip
    log = (base / "server.log").open("w")
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=base)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, token, server, base / "server.log")
        yield {
            "url": url,
            "token": token,
            "root": root,
            "outside": outside,
            "log": base / "server.log",
        }
    finally:
        server.terminate()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def _wait_until_up(url: str, token: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"jupyter server exited:\n{log.read_text()[-3000:]}")
        try:
            answer = requests.get(
                f"{url}/jupyter-mlops/version",
                headers={"Authorization": f"token {token}"},
                timeout=5,
            )
            if answer.status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    pytest.fail(f"jupyter server did not answer in 120 s:\n{log.read_text()[-3000:]}")


def test_the_description_names_every_endpoint_the_extension_serves() -> None:
    documented = set(yaml.safe_load(SPEC.read_text())["paths"])
    served_patterns = [pattern for pattern, _ in handlers("/")][:-1]  # the last: 404 catch-all
    as_paths = {re.sub(r"\([^)]*\)", "{x}", p) for p in served_patterns}
    assert {re.sub(r"\{[^}]*\}", "{x}", p) for p in documented} == as_paths


@schema.parametrize()
@settings(
    max_examples=LONG_RUN or 25,
    derandomize=not LONG_RUN,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_error_no_traceback_nothing_outside(
    case: Any, served: dict[str, Any], figures: Any
) -> None:
    headers = {"Authorization": f"token {served['token']}"}
    if case.headers:  # the transport sets Host; a forged one is refused by tornado, not us
        case.headers = {k: v for k, v in case.headers.items() if k.lower() != "host"}
    response = case.call(base_url=served["url"], headers=headers, timeout=120)
    outside = _files(served["outside"])
    figures.add(
        "REST API fuzzed from its OpenAPI description (schemathesis)",
        requests=1,
        server_errors=int(response.status_code >= 500),
        tracebacks=int("Traceback" in response.text),
        files_outside_root=len(outside),
    )
    case.validate_response(
        response,
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
        headers=headers,
    )
    assert "Traceback" not in response.text
    assert outside == [], "a request wrote outside the server root"
