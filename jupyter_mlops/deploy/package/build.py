"""Build a package of one registered model version in a chosen format.

``FORMATS`` maps a format name to its builder: ``builder(source, out, options)`` writes
the package's files into the empty folder ``out`` and returns them. Formats register
themselves on import (``wheel``, ``container`` here; ``kserve``, ``kubernetes`` in
``manifests.py``). The builder writes into a temporary folder beside the output folder,
which is moved into place only when every file is written: a failed build leaves nothing
behind, and the previous package (if any) stays until the new one replaces it.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyter_mlops.deploy.package.output import MARKER, claim_output, move_into_place
from jupyter_mlops.deploy.package.source import PackageSource, read_source
from jupyter_mlops.errors import DeployError

MODEL_SOURCES = ("baked", "registry")


@dataclass(frozen=True)
class PackageOptions:
    """How to build: ``model_source`` (container: the model ``baked`` into the context or
    fetched from the ``registry`` at start), ``force`` (replace an output folder that is not
    a package), ``image`` (the container image manifests refer to), ``canary_percent``
    (KServe's ``canaryTrafficPercent``), ``replicas``, and ``extra`` settings of other
    formats (text by name)."""

    model_source: str = "baked"
    force: bool = False
    image: str | None = None
    canary_percent: int | None = None
    replicas: int = 1
    extra: dict[str, str] = field(default_factory=dict)

    def check(self) -> PackageOptions:
        """The options themselves; ``DeployError`` naming the first bad one."""
        if self.model_source not in MODEL_SOURCES:
            raise DeployError(
                f"--model-source must be one of {', '.join(MODEL_SOURCES)}, "
                f"not '{self.model_source}'",
                name="model_source",
            )
        if self.replicas < 1:
            raise DeployError(f"--replicas must be at least 1, not {self.replicas}")
        if self.canary_percent is not None and not 0 <= self.canary_percent <= 100:
            raise DeployError(f"--canary-percent must be 0..100, not {self.canary_percent}")
        return self


@dataclass(frozen=True)
class PackageResult:
    """A written package: its folder, its files (relative to it), and notes about how it
    was built (e.g. where the container installs jupyter_mlops from)."""

    name: str
    version: str
    format: str
    out_dir: Path
    files: tuple[str, ...]
    digest: str
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` form."""
        return {
            "model": self.name,
            "version": self.version,
            "format": self.format,
            "out_dir": str(self.out_dir),
            "files": list(self.files),
            "model_digest": self.digest,
            "notes": list(self.notes),
        }


Builder = Callable[[PackageSource, Path, PackageOptions], list[Path]]
Notes = Callable[[PackageSource, PackageOptions], list[str]]

FORMATS: dict[str, Builder] = {}
"""Format name → builder; every format module adds its own."""
NOTES: dict[str, Notes] = {}
"""Format name → what the result says about how it was built (optional)."""


def build_package(
    tracking_uri: str,
    name: str,
    version: str,
    fmt: str,
    out_dir: Path,
    options: PackageOptions,
    alias: str | None = None,
) -> PackageResult:
    """Package version ``version`` of ``name`` as ``fmt`` into ``out_dir`` (``alias``: the
    alias it was named by, which a registry-fetching container follows)."""
    from jupyter_mlops.registry.model_ref import download_version

    builder = format_builder(fmt)
    options.check()
    out_dir = Path(out_dir).absolute()
    claim_output(out_dir, options.force)
    with tempfile.TemporaryDirectory(prefix="mlops-package-") as scratch:
        local = download_version(tracking_uri, name, version, Path(scratch))
        source = read_source(local, name, version, alias, tracking_uri)
        staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
        staging.chmod(0o755)
        try:
            files = builder(source, staging, options)
            notes = NOTES[fmt](source, options) if fmt in NOTES else []
            _write_marker(staging, source, fmt, files)
            move_into_place(staging, out_dir)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    relative = tuple(sorted(path.relative_to(staging).as_posix() for path in files))
    return PackageResult(name, version, fmt, out_dir, relative, source.digest, tuple(notes))


def format_builder(fmt: str) -> Builder:
    """The builder of format ``fmt``; ``DeployError`` naming the known formats."""
    _register_formats()
    if fmt not in FORMATS:
        known = ", ".join(sorted(FORMATS))
        raise DeployError(f"unknown package format '{fmt}' (formats: {known})", name=fmt)
    return FORMATS[fmt]


def _register_formats() -> None:
    """Import the format modules (each adds itself to ``FORMATS``)."""
    import importlib

    for module in ("wheel", "container", "manifests"):
        importlib.import_module(f"jupyter_mlops.deploy.package.{module}")


def _write_marker(folder: Path, source: PackageSource, fmt: str, files: list[Path]) -> None:
    """The file that says this folder is a package of ours (and of what)."""
    marker = {
        "model": source.name,
        "version": source.version,
        "alias": source.alias,
        "format": fmt,
        "model_digest": source.digest,
        "files": sorted(path.relative_to(folder).as_posix() for path in files),
    }
    (folder / MARKER).write_text(json.dumps(marker, indent=2, sort_keys=True) + "\n")
