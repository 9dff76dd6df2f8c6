"""Content-addressed artifact store for step outputs.

Layout under the store root (by default ``<pipeline dir>/.mlops``)::

    objects/<hash[:2]>/<hash>.<ext>        the serialized value; hash = sha256 of these bytes
    objects/<hash[:2]>/<hash>.meta.json    serializer, extension, type, summary, size
    objects/tmp/                           files being written; never read as artifacts

A value is serialized to ``objects/tmp``, hashed, then the meta file and finally the object
are moved into place with ``os.replace``. The object file is therefore complete whenever it
exists and its meta file is beside it; identical content is stored once. Reads re-hash the
object, so a truncated or altered file is reported, never loaded.

An object whose format may run code when loaded (pickle-based) is loaded only when its meta
file carries this user's seal (``trust.py``), written by ``put``; one copied in from elsewhere
is refused with ``UntrustedArtifactError``. skops files load with restricted types.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyter_mlops.artifacts import trust
from jupyter_mlops.artifacts.serializers import registry as serializers
from jupyter_mlops.artifacts.serializers.estimators import SkopsSerializer
from jupyter_mlops.errors import ArtifactError, MlopsError, UntrustedArtifactError

DEFAULT_DIRNAME = ".mlops"
OBJECTS_DIR = "objects"
TMP_DIR = "tmp"
META_SUFFIX = ".meta.json"
MAX_SUMMARY_COLUMNS = 100

_HASH_RE = re.compile(r"[0-9a-f]{64}")
_CHUNK = 1 << 20

StrPath = str | os.PathLike[str]


@dataclass(frozen=True)
class ArtifactRef:
    """A stored value: the output name it was saved under and where its content lives."""

    name: str
    hash: str
    serializer: str
    type: str
    summary: dict[str, Any] = field(default_factory=dict, hash=False)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict; :meth:`from_dict` reverses it."""
        return {
            "name": self.name,
            "hash": self.hash,
            "serializer": self.serializer,
            "type": self.type,
            "summary": dict(self.summary),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ArtifactRef:
        """The ref described by ``data``; ``ArtifactError`` when a field is missing or wrong."""
        try:
            ref = cls(
                name=str(data["name"]),
                hash=str(data["hash"]),
                serializer=str(data["serializer"]),
                type=str(data["type"]),
                summary=dict(data.get("summary") or {}),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ArtifactError(f"invalid artifact reference {data!r}: {exc!r}") from exc
        _check_hash(ref.hash)
        return ref


def _check_hash(digest: str) -> str:
    if not isinstance(digest, str) or not _HASH_RE.fullmatch(digest):
        raise ArtifactError(f"{digest!r} is not an artifact hash (64 lowercase hex digits)")
    return digest


def hash_file(path: StrPath) -> str:
    """The sha256 hex digest of the file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync(path: StrPath) -> None:
    with open(path, "rb") as file:
        os.fsync(file.fileno())


def write_text_atomic(path: StrPath, text: str, tmp_dir: StrPath | None = None) -> None:
    """Write ``text`` (UTF-8) atomically: see ``write_bytes_atomic``."""
    write_bytes_atomic(path, text.encode("utf-8"), tmp_dir)


def write_bytes_atomic(path: StrPath, data: bytes, tmp_dir: StrPath | None = None) -> None:
    """Write ``data`` to a temporary file, fsync it, then rename it over ``path``.

    The temporary file is made in ``tmp_dir`` (same file system as ``path``), else beside
    ``path`` as a hidden ``.<name>.<random>.tmp``; it is removed when anything fails.
    """
    path = Path(path)
    tmp_name = f".{path.name}.{uuid.uuid4().hex}.tmp"
    tmp = Path(tmp_dir) / tmp_name if tmp_dir is not None else path.with_name(tmp_name)
    try:
        with open(tmp, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_json_atomic(path: StrPath, data: Any, tmp_dir: StrPath | None = None) -> None:
    """Write ``data`` as indented, key-sorted JSON atomically (see ``write_text_atomic``)."""
    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=True) + "\n", tmp_dir)


def read_json_file(path: Path, error: type[MlopsError], what: str) -> Any:
    """The JSON in ``path``, or None when the file is absent; ``error`` (naming ``what`` and
    the path) when it cannot be read or parsed."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise error(f"cannot read {what}: {exc}", path=str(path)) from None


def summarize(value: Any) -> dict[str, Any]:
    """A small JSON-able description: shape and dtypes for frames and arrays, len for sized."""
    try:
        return _summarize(value)
    except Exception:
        return {}


def _summarize(value: Any) -> dict[str, Any]:
    module = type(value).__module__.partition(".")[0]
    if module == "pandas":
        pd = sys.modules["pandas"]
        if isinstance(value, pd.DataFrame):
            dtypes = list(value.dtypes.items())[:MAX_SUMMARY_COLUMNS]
            return {
                "shape": list(value.shape),
                "dtypes": {str(column): str(dtype) for column, dtype in dtypes},
            }
        if isinstance(value, pd.Series):
            return {"shape": list(value.shape), "dtype": str(value.dtype)}
    if module == "numpy" and hasattr(value, "shape") and hasattr(value, "dtype"):
        return {"shape": list(value.shape), "dtype": str(value.dtype)}
    if isinstance(value, (list, tuple, dict, set, frozenset, str, bytes)):
        return {"len": len(value)}
    return {}


def _read_meta(meta_path: Path, object_path: Path) -> dict[str, Any]:
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ArtifactError(
            "artifact has no meta file beside it: not stored, or its write was interrupted",
            path=str(object_path),
        ) from exc
    except (OSError, ValueError) as exc:
        message = f"artifact meta file is unreadable: {exc}"
        raise ArtifactError(message, path=str(meta_path)) from exc
    if not isinstance(meta, dict) or not {"serializer", "extension"} <= meta.keys():
        raise ArtifactError("artifact meta file lacks serializer/extension", path=str(meta_path))
    return meta


def load_object(path: StrPath) -> Any:
    """Load the object file at ``path`` (``.../<hash>.<ext>``) with the serializer in its meta.

    ``ArtifactError`` naming the path when the file or its meta is missing, the content does
    not hash to the name, or the serializer fails; ``UntrustedArtifactError`` when its format
    may run code and this user's tool did not seal it (nothing is deserialized).
    """
    path = Path(path)
    digest, _, extension = path.name.partition(".")
    if not _HASH_RE.fullmatch(digest) or extension == META_SUFFIX[1:]:
        raise ArtifactError("not an artifact object file (<sha256>.<ext>)", path=str(path))
    meta = _read_meta(path.with_name(digest + META_SUFFIX), path)
    if extension != meta["extension"]:
        raise ArtifactError(
            f"artifact file extension '.{extension}' does not match its meta "
            f"('.{meta['extension']}')",
            path=str(path),
        )
    try:
        actual = hash_file(path)
    except FileNotFoundError as exc:
        raise ArtifactError("artifact file is missing", path=str(path)) from exc
    if actual != digest:
        raise ArtifactError(
            "artifact file is corrupt: its content does not match its hash", path=str(path)
        )
    serializer = serializers.get_serializer(meta["serializer"])
    sealed = trust.is_sealed(digest, serializer.name, meta.get("seal"))
    if trust.needs_seal(serializer.name) and not sealed and serializer.name != "skops":
        raise UntrustedArtifactError(
            f"{serializer.name} artifact was not written by this user's jupyter_mlops "
            "(no valid seal): not loaded, loading it could run code",
            path=str(path),
        )
    try:
        if isinstance(serializer, SkopsSerializer):
            return serializer.load_trusting(path, _skops_modules(path, sealed))
        return serializer.load(path)
    except Exception as exc:
        raise ArtifactError(
            f"serializer '{serializer.name}' cannot load artifact: {type(exc).__name__}: {exc}",
            path=str(path),
        ) from exc


def _skops_modules(path: Path, sealed: bool) -> frozenset[str]:
    """Modules a skops object may take types from: the safe ones, and the pipeline's own
    packages (``<pipeline>/.mlops/objects/<xx>/<file>``) when this user's tool sealed it."""
    return trust.SAFE_MODULES | trust.store_packages(path) if sealed else trust.SAFE_MODULES


class ArtifactStore:
    """Content-addressed store rooted at ``root`` (created on the first write)."""

    def __init__(self, root: StrPath) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"ArtifactStore({str(self.root)!r})"

    @classmethod
    def for_pipeline(cls, pipeline_dir: StrPath) -> ArtifactStore:
        """The default store of a pipeline: ``<pipeline_dir>/.mlops``."""
        return cls(Path(pipeline_dir) / DEFAULT_DIRNAME)

    @property
    def objects_dir(self) -> Path:
        return self.root / OBJECTS_DIR

    @property
    def tmp_dir(self) -> Path:
        return self.objects_dir / TMP_DIR

    def meta_path(self, digest: str) -> Path:
        """Where the meta file of ``digest`` lives (whether or not it exists)."""
        _check_hash(digest)
        return self.objects_dir / digest[:2] / f"{digest}{META_SUFFIX}"

    def meta(self, digest: str) -> dict[str, Any]:
        """The meta dict of a stored object; ``ArtifactError`` when absent or unreadable."""
        return _read_meta(self.meta_path(digest), self.objects_dir / digest[:2] / digest)

    def path_of(self, digest: str) -> Path:
        """The object file of ``digest``; its extension is read from the meta file."""
        extension = self.meta(digest)["extension"]
        return self.objects_dir / digest[:2] / f"{digest}.{extension}"

    def put(self, name: str, value: Any) -> ArtifactRef:
        """Serialize, hash and store ``value``; ``name`` is the output name kept in the ref."""
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        stem = self.tmp_dir / uuid.uuid4().hex
        serializer, tmp_path = serializers.dump(value, stem, name=name)
        try:
            _fsync(tmp_path)
            digest = hash_file(tmp_path)
            meta: dict[str, Any] = {
                "hash": digest,
                "serializer": serializer.name,
                "extension": serializer.extension,
                "type": serializers.type_name(value),
                "summary": summarize(value),
                "size": os.path.getsize(tmp_path),
                "seal": trust.seal(digest, serializer.name),
            }
            target_dir = self.objects_dir / digest[:2]
            target_dir.mkdir(exist_ok=True)
            write_json_atomic(target_dir / f"{digest}{META_SUFFIX}", meta, self.tmp_dir)
            os.replace(tmp_path, target_dir / f"{digest}.{serializer.extension}")
        except BaseException:
            Path(tmp_path).unlink(missing_ok=True)
            raise
        return ArtifactRef(name, digest, serializer.name, meta["type"], meta["summary"])

    def get(self, ref: ArtifactRef | str) -> Any:
        """Load a stored value by ref or hash, after checking its content hash."""
        digest = ref.hash if isinstance(ref, ArtifactRef) else _check_hash(ref)
        return load_object(self.path_of(digest))

    def ref(self, name: str, digest: str) -> ArtifactRef:
        """A ref to an already stored object, rebuilt from its meta file."""
        meta = self.meta(digest)
        return ArtifactRef(name, digest, meta["serializer"], meta["type"], meta["summary"])

    def verify(self, digest: str) -> bool:
        """True when the object and its meta exist and the object re-hashes to ``digest``."""
        try:
            return hash_file(self.path_of(digest)) == digest
        except (ArtifactError, OSError):
            return False

    def trusted(self, digest: str) -> bool:
        """True when loading the object runs no code not written by this user's tool: a data
        format, or sealed by ``put``. Content is not re-hashed here (``verify`` does that)."""
        try:
            meta = self.meta(digest)
        except ArtifactError:
            return False
        serializer = str(meta["serializer"])
        return not trust.needs_seal(serializer) or trust.is_sealed(
            digest, serializer, meta.get("seal")
        )

    def hashes(self) -> Iterator[str]:
        """Hashes of the objects present (not verified); temporary files are never listed."""
        if not self.objects_dir.is_dir():
            return
        for shard in sorted(self.objects_dir.iterdir()):
            if len(shard.name) != 2 or not shard.is_dir():
                continue
            with_meta: set[str] = set()
            with_object: set[str] = set()
            for entry in shard.iterdir():
                digest, _, extension = entry.name.partition(".")
                if _HASH_RE.fullmatch(digest):
                    (with_meta if extension == META_SUFFIX[1:] else with_object).add(digest)
            yield from sorted(with_meta & with_object)

    def clean_temp(self, max_age: float = 0.0) -> int:
        """Delete temporary files older than ``max_age`` seconds; returns how many.

        Pass a margin (e.g. 3600) while other processes may be writing to the same store.
        """
        if not self.tmp_dir.is_dir():
            return 0
        removed = 0
        cutoff = time.time() - max_age
        for entry in self.tmp_dir.iterdir():
            try:
                if entry.is_file() and entry.stat().st_mtime <= cutoff:
                    entry.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        return removed
