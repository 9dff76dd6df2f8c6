"""Reading committed test fixtures safely: hash-pinned manifest, hashed files, confined paths.

Fixtures live in ``<pipeline>/tests/fixtures/`` and are committed, so anyone who can commit
can change them, and some formats (cloudpickle, joblib) run code when loaded. Nothing is
deserialized unless:

- ``tests/fixtures_pin.py`` (Python, reviewed as code) holds the sha256 of ``manifest.json``,
  and the manifest hashes to it;
- the manifest records the sha256 of each fixture file, and the file hashes to it;
- the file name is a plain name in the fixtures folder (no ``/``, no ``..``, no absolute path,
  no symlink, the folder itself not leading outside the pipeline folder).

Capturing (``fixtures.py``) writes the manifest and then the pin.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from jupyter_mlops.artifacts import trust
from jupyter_mlops.artifacts.serializers import registry as serializers
from jupyter_mlops.artifacts.serializers.estimators import SkopsSerializer
from jupyter_mlops.artifacts.store import hash_file, read_json_file, write_text_atomic
from jupyter_mlops.errors import FixtureError

FIXTURES_DIR = "tests/fixtures"
MANIFEST = "manifest.json"
PIN_FILE = "tests/fixtures_pin.py"
PIN_NAME = "MANIFEST_SHA256"
FORMAT = 3  # 2: NaN locations of every output, full-data steps; 3: sha256 of every file
RECAPTURE = "re-capture with `jupyter mlops fixtures PIPELINE` after a run, review and commit"


def fixtures_dir(folder: str | Path) -> Path:
    """``<pipeline>/tests/fixtures``."""
    return Path(folder) / FIXTURES_DIR


def manifest_sha256(folder: str | Path) -> str:
    """The sha256 of the manifest file's bytes."""
    return hash_file(fixtures_dir(folder) / MANIFEST)


def read_manifest(folder: str | Path) -> dict[str, Any] | None:
    """The fixture manifest of a pipeline folder, or None when none was captured; its
    fixture entries checked (plain file names, a sha256 each). Not checked against the pin."""
    path = fixtures_dir(folder) / MANIFEST
    data = read_json_file(path, FixtureError, "the fixture manifest")
    if data is None:
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT or "fixtures" not in data:
        raise FixtureError(
            f"not a fixture manifest of this jupyter_mlops version: {RECAPTURE}", path=str(path)
        )
    for key, item in data["fixtures"].items():
        _check_item(key, item, path)
    return data


def _check_item(key: str, item: Any, manifest: Path) -> None:
    """Refuse an entry without a plain file name, a sha256 or a serializer name."""
    if not isinstance(item, dict) or not all(
        isinstance(item.get(field), str) for field in ("file", "sha256", "serializer")
    ):
        raise FixtureError(f"fixture '{key}' lacks file, sha256 or serializer", path=str(manifest))
    name = item["file"]
    if name in ("", ".", "..") or Path(name).name != name or "\\" in name or "\0" in name:
        raise FixtureError(
            f"fixture '{key}' names file {name!r}: fixture files must be plain names inside "
            f"{FIXTURES_DIR}/ (no absolute path, no '..', no sub-folder)",
            path=str(manifest),
        )


def write_pin(folder: str | Path) -> Path:
    """Write ``tests/fixtures_pin.py`` with the sha256 of the current manifest."""
    path = Path(folder) / PIN_FILE
    text = (
        f'"""The sha256 of {FIXTURES_DIR}/{MANIFEST}, written when jupyter_mlops captured them.\n'
        "\nThe generated tests load no fixture unless the manifest hashes to this value and\n"
        "each fixture file to the sha256 the manifest records: review a change here as code.\n"
        '"""\n\n'
        f'{PIN_NAME} = "{manifest_sha256(folder)}"\n'
    )
    write_text_atomic(path, text)
    return path


def pinned_sha256(folder: str | Path) -> str | None:
    """The manifest sha256 recorded in ``tests/fixtures_pin.py``, or None (absent, unreadable,
    or no plain string assignment of ``MANIFEST_SHA256``). The file is parsed, never run."""
    try:
        tree = ast.parse((Path(folder) / PIN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError, SyntaxError):
        return None
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and [getattr(t, "id", None) for t in node.targets] == [PIN_NAME]
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            return node.value.value
    return None


def read_pinned_manifest(folder: str | Path) -> dict[str, Any] | None:
    """The manifest (``read_manifest``) once it hashes to the pinned sha256; None when no
    fixtures were captured; ``FixtureError`` naming the manifest when it is not pinned or
    changed since capture."""
    manifest = read_manifest(folder)
    if manifest is None:
        return None
    path = fixtures_dir(folder) / MANIFEST
    pinned = pinned_sha256(folder)
    if pinned is None:
        raise FixtureError(
            f"fixture manifest is not pinned ({PIN_FILE} is missing or holds no "
            f"{PIN_NAME}): not loading any fixture; {RECAPTURE}",
            path=str(path),
        )
    if manifest_sha256(folder) != pinned:
        raise FixtureError(
            f"fixture manifest changed since capture (its sha256 is not the one in {PIN_FILE}):"
            f" not loading any fixture; {RECAPTURE}",
            path=str(path),
        )
    return manifest


def fixture_file(folder: str | Path, key: str, item: dict[str, Any]) -> Path:
    """The checked path of fixture ``key``: inside the fixtures folder, not a symlink, with
    the sha256 the manifest records; ``FixtureError`` naming the file otherwise."""
    root = fixtures_dir(folder)
    path = root / item["file"]
    if not root.resolve().is_relative_to(Path(folder).resolve()):
        raise FixtureError(
            f"{FIXTURES_DIR} leads outside the pipeline folder: refusing fixture '{key}'",
            path=str(root),
        )
    if path.is_symlink() or path.resolve().parent != root.resolve():
        raise FixtureError(
            f"fixture '{key}' is a symlink or lies outside {FIXTURES_DIR}/: not loaded",
            path=str(path),
        )
    try:
        actual = hash_file(path)
    except OSError as exc:
        raise FixtureError(f"cannot read fixture '{key}': {exc}", path=str(path)) from exc
    if actual != item["sha256"]:
        raise FixtureError(
            f"fixture {item['file']} changed since capture (sha256 differs from the manifest): "
            f"not loaded; {RECAPTURE}",
            path=str(path),
        )
    return path


def load_fixture(folder: str | Path, key: str, manifest: dict[str, Any] | None = None) -> Any:
    """The value of fixture ``<step>.<name>``, loaded with its recorded serializer once the
    manifest (read and pin-checked when not given) and the file's hash are checked."""
    if manifest is None:
        manifest = read_pinned_manifest(folder) or {"fixtures": {}}
    item = manifest["fixtures"].get(key)
    if item is None:
        raise FixtureError(f"no fixture '{key}' was captured", name=key)
    path = fixture_file(folder, key, item)
    try:
        serializer = serializers.get_serializer(item["serializer"])
        if isinstance(serializer, SkopsSerializer):
            modules = trust.SAFE_MODULES | trust.own_packages(Path(folder))
            return serializer.load_trusting(path, modules)
        return serializer.load(path)
    except Exception as exc:
        raise FixtureError(
            f"cannot load fixture '{key}': {type(exc).__name__}: {exc}", path=str(path)
        ) from exc
