"""A fresh venv for tests that install packages where jupyter_mlops is not (``python -m
venv``, no system site-packages; pip's cache makes the dependencies fast), and the
environment that runs its commands with nothing of this venv."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

INSTALL_TIMEOUT = 900


def make_venv(folder: Path) -> Path:
    """A new venv in ``folder``; its bin folder."""
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True, timeout=120)
    return folder / "bin"


def clean_env(venv: Path, **extra: str) -> dict[str, str]:
    """The environment of the fresh venv: its bin first, nothing of this venv's."""
    env = {
        key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")
    }
    env["PATH"] = os.pathsep.join([str(venv), "/usr/local/bin", "/usr/bin", "/bin"])
    return {**env, **extra}


def run_shell(venv: Path, command: str, cwd: Path, timeout: float = INSTALL_TIMEOUT) -> None:
    """Run a Dockerfile's ``RUN`` command with the venv first on PATH; fails the test with
    its output's tail when it fails."""
    done = subprocess.run(
        ["sh", "-c", command],
        cwd=cwd,
        env=clean_env(venv),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
