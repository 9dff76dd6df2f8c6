"""Where a container installs jupyter_mlops from: the index (the version installed here)
when this install came from one, else a wheel of this install's own files, written with
the package's zip writer (an editable install from a source checkout has no wheel to
reuse, and building one with the project's build backend would need it downloaded)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from jupyter_mlops.deploy.package.wheel_archive import folder_files, wheel_name, write_wheel

DISTRIBUTION = "jupyter_mlops"
EXTRA = "serve"
LEFT_OUT = frozenset({"labextension"})
"""The JupyterLab panel's built files: a serving image has no JupyterLab."""


@dataclass(frozen=True)
class OwnInstall:
    """``requirement`` is the line for requirements.txt; ``local`` says whether it names a
    wheel written into the context (``wheel_file``, relative to the context)."""

    requirement: str
    local: bool
    origin: str
    wheel_file: str | None = None


def own_install(context: Path, wheels_dir: str = "wheels", extras: str = EXTRA) -> OwnInstall:
    """How the context installs jupyter_mlops with ``extras`` (comma-separated); writes its
    wheel into ``context/wheels_dir`` when this install did not come from an index."""
    dist = metadata.distribution(DISTRIBUTION)
    version = dist.version
    direct_url = dist.read_text("direct_url.json")
    if direct_url is None:
        return OwnInstall(f"{DISTRIBUTION}[{extras}]=={version}", False, "the package index")
    folder = context / wheels_dir
    folder.mkdir(exist_ok=True)
    write_own_wheel(dist, folder)
    relative = f"{wheels_dir}/{wheel_name(DISTRIBUTION, version)}"
    origin = json.loads(direct_url).get("url", "a local install")
    return OwnInstall(f"./{relative}[{extras}]", True, f"a wheel built from {origin}", relative)


def write_own_wheel(dist: metadata.Distribution, folder: Path) -> Path:
    """A wheel of the installed jupyter_mlops package's files, with its metadata's
    requirements, extras and console scripts."""
    import jupyter_mlops

    package = Path(jupyter_mlops.__file__).parent
    files = folder_files(package, DISTRIBUTION, LEFT_OUT)
    entry_points = dist.read_text("entry_points.txt")
    extra_files = {"entry_points.txt": entry_points.encode()} if entry_points else {}
    return write_wheel(folder, DISTRIBUTION, dist.version, files, _metadata(dist), extra_files)


def _metadata(dist: metadata.Distribution) -> str:
    """The METADATA of the installed distribution, without its long description."""
    fields = ("Name", "Version", "Summary", "Requires-Python", "Provides-Extra", "Requires-Dist")
    lines = ["Metadata-Version: 2.1"]
    for field in fields:
        lines += [f"{field}: {value}" for value in dist.metadata.get_all(field) or []]
    return "\n".join(lines) + "\n"
