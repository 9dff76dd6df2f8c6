"""Fixtures shared by the whole test suite (keep this file small)."""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

pytest_plugins = [
    "mlflow_fixtures",
    "postgres_server",
    "mlflow_server",
]  # a real MLflow SQLite store per test; PostgreSQL and an mlflow server on demand

# Notebooks run headless (papermill, nbval) record themselves in MLflow by default; tests that
# check that recording turn it on explicitly, every other test keeps its runs out of MLflow.
os.environ.setdefault("JUPYTER_MLOPS_TRACKING", "0")
# The key sealing stored pickles (artifacts/trust.py) lives in a throwaway folder, never in the
# user's ~/.local/state: child processes (workers, generated tests) inherit it.
_STATE_DIR = tempfile.mkdtemp(prefix="jupyter-mlops-state-")
os.environ.setdefault("JUPYTER_MLOPS_STATE_DIR", _STATE_DIR)
atexit.register(shutil.rmtree, _STATE_DIR, ignore_errors=True)

# A suite started in the background (`make test &`, nohup) inherits SIGINT ignored, and so would
# every process the tests start: the Ctrl-C tests would wait for an interrupt that never comes.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

REPO = Path(__file__).resolve().parents[1]
KERNEL_NAME = "python3"


@pytest.fixture(scope="session")
def kernel_name() -> str:
    """The kernelspec name for real kernels, installed into this venv when it is missing.

    Tests and notebooks use ``python3``; installing it with ``--sys-prefix`` makes it run
    this interpreter, so kernels see the editable ``jupyter_mlops`` and the test dependencies.
    """
    spec = Path(sys.prefix, "share", "jupyter", "kernels", KERNEL_NAME, "kernel.json")
    if not spec.exists():
        subprocess.run(
            [sys.executable, "-m", "ipykernel", "install", "--sys-prefix", "--name", KERNEL_NAME],
            check=True,
            capture_output=True,
        )
    return KERNEL_NAME
