"""The git commit a folder is checked out at, for run lineage (plain ``git``, no GitPython)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

_SHA_RE = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
GIT_TIMEOUT = 10.0
# Variables that would point git at another repository than the folder's own.
_REPO_OVERRIDES = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE")


def git_commit(folder: str | os.PathLike[str]) -> str | None:
    """The full ``HEAD`` commit of the repository holding ``folder``.

    None when ``folder`` is not inside a git work tree, the repository has no commit yet,
    git is not installed, or it refuses the repository (e.g. ``safe.directory``).
    """
    sha = _git(folder, "rev-parse", "--verify", "--quiet", "HEAD")
    return sha if sha is not None and _SHA_RE.fullmatch(sha) else None


def git_toplevel(folder: str | os.PathLike[str]) -> Path | None:
    """The root of the git work tree holding ``folder``, or None outside one."""
    top = _git(folder, "rev-parse", "--show-toplevel")
    return Path(top) if top else None


def project_root(path: str | os.PathLike[str]) -> Path:
    """Where a project's default ``mlflow.db`` lives: the git work tree holding ``path``; else,
    for a pipeline folder inside ``pipelines/``, the folder above that; else ``path``'s folder."""
    resolved = Path(path).resolve()
    folder = resolved if resolved.is_dir() else resolved.parent
    top = git_toplevel(folder)
    if top is not None:
        return top
    if folder.parent.name == "pipelines":
        return folder.parent.parent
    return folder


def _git(folder: str | os.PathLike[str], *args: str) -> str | None:
    """``git -C folder ARGS`` stdout, stripped; None when git fails or is missing."""
    folder = Path(folder)
    if not folder.is_dir():
        folder = folder.parent
    try:
        done = subprocess.run(
            ["git", "-C", str(folder), *args],
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT,
            check=False,
            env=_git_env(),
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _REPO_OVERRIDES}
    env.update(GIT_TERMINAL_PROMPT="0", LC_ALL="C")
    return env
