"""The output folder of a package: refused when it holds something else, replaced as a
whole when it holds an earlier package (``MARKER`` says so)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from jupyter_mlops.errors import DeployError, FileSystemError

MARKER = "mlops-package.json"
"""Written into every package folder: model, version, format, model digest, files."""


def claim_output(out_dir: Path, force: bool) -> None:
    """Check that the package may be written to ``out_dir``: it does not exist, is empty,
    holds an earlier package, or ``force``; else ``DeployError`` naming it."""
    if out_dir.exists() and not out_dir.is_dir():
        raise DeployError("the output exists and is not a folder", path=str(out_dir))
    if not out_dir.parent.is_dir():
        raise DeployError("the output's parent folder does not exist", path=str(out_dir.parent))
    if force or not out_dir.exists() or (out_dir / MARKER).is_file():
        return
    if any(out_dir.iterdir()):
        raise DeployError(
            "the output folder exists and is not a package: choose another -o, or pass "
            "--force to replace it",
            path=str(out_dir),
        )


def move_into_place(staging: Path, out_dir: Path) -> None:
    """Replace ``out_dir`` (if any) by the finished ``staging`` folder beside it."""
    old: Path | None = None
    try:
        if out_dir.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old.", dir=out_dir.parent))
            os.replace(out_dir, old / out_dir.name)
        os.replace(staging, out_dir)
    except OSError as exc:
        if old is not None and not out_dir.exists():
            os.replace(old / out_dir.name, out_dir)
        raise FileSystemError.of(exc, "move the package into place", out_dir) from None
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
