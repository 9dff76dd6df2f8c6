"""A pure-Python wheel written directly as a zip: ``.dist-info`` with METADATA, WHEEL and
RECORD (sha256 of every file), entries sorted and stamped with one fixed time, so the same
files give the same bytes. No build backend is needed."""

from __future__ import annotations

import base64
import hashlib
import re
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from jupyter_mlops.errors import DeployError

FIXED_TIME = (1980, 1, 1, 0, 0, 0)
"""Every entry's timestamp (the earliest a zip can hold)."""
TAG = "py3-none-any"


def distribution_file_name(name: str) -> str:
    """A distribution name as wheel file names spell it (runs of ``-_.`` become ``_``)."""
    return re.sub(r"[-_.]+", "_", name)


def wheel_name(name: str, version: str) -> str:
    """``name-version-py3-none-any.whl``."""
    return f"{distribution_file_name(name)}-{version}-{TAG}.whl"


def check_version(version: str) -> str:
    """``version`` when it is a PEP 440 version; ``DeployError`` naming it otherwise."""
    from packaging.version import InvalidVersion, Version

    try:
        Version(version)
    except InvalidVersion:
        raise DeployError(f"'{version}' is not a PEP 440 version", name="version") from None
    return version


def metadata_text(name: str, version: str, summary: str, requires: Sequence[str]) -> str:
    """The METADATA file: name, version, summary and ``Requires-Dist`` lines."""
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    lines.append(f"Summary: {summary}")
    lines += [f"Requires-Dist: {requirement}" for requirement in requires]
    return "\n".join(lines) + "\n"


def write_wheel(
    folder: Path,
    name: str,
    version: str,
    files: Mapping[str, bytes],
    metadata: str,
    dist_info_files: Mapping[str, bytes] | None = None,
) -> Path:
    """Write the wheel of ``files`` (archive path → content) with ``metadata`` (see
    :func:`metadata_text`) and other ``dist_info_files`` (e.g. ``entry_points.txt``) into
    ``folder``; its path."""
    from jupyter_mlops import __version__

    dist_info = f"{distribution_file_name(name)}-{version}.dist-info"
    wheel_file = (
        f"Wheel-Version: 1.0\nGenerator: jupyter_mlops ({__version__})\n"
        f"Root-Is-Purelib: true\nTag: {TAG}\n"
    )
    entries = dict(sorted(files.items()))
    for file_name, data in sorted((dist_info_files or {}).items()):
        entries[f"{dist_info}/{file_name}"] = data
    entries[f"{dist_info}/METADATA"] = metadata.encode()
    entries[f"{dist_info}/WHEEL"] = wheel_file.encode()
    record_path = f"{dist_info}/RECORD"
    record = "".join(f"{path},{_hash(data)},{len(data)}\n" for path, data in entries.items())
    entries[record_path] = (record + f"{record_path},,\n").encode()
    path = folder / wheel_name(name, version)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for archive_path, data in entries.items():
            info = zipfile.ZipInfo(archive_path, FIXED_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return path


def _hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return f"sha256={digest.decode()}"


def folder_files(root: Path, prefix: str, skip: frozenset[str] = frozenset()) -> dict[str, bytes]:
    """Every file under ``root`` as ``prefix/relative/path`` → content (``__pycache__``
    folders, ``.pyc`` files and top-level names in ``skip`` left out)."""
    files = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if not path.is_file() or relative.parts[0] in skip:
            continue
        if "__pycache__" in relative.parts or path.suffix == ".pyc":
            continue
        files[f"{prefix}/{relative.as_posix()}"] = path.read_bytes()
    return files
