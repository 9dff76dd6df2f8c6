"""Which stored objects may be deserialized: the seal of objects this user's tool wrote.

Pickle-based formats (cloudpickle, joblib, and any serializer that is not a built-in data
format) run code when loaded, so the artifact store loads such an object only when its meta
file carries a valid *seal*: the HMAC-SHA256, under a per-user key, of the object's content
hash and serializer name. The key lives outside every repository, in
``$JUPYTER_MLOPS_STATE_DIR`` (else ``$XDG_STATE_HOME/jupyter_mlops``, else
``~/.local/state/jupyter_mlops``) as ``artifact-key``, created on first use with mode 0600.
A file committed into a pipeline folder cannot carry a valid seal without that key.

Data formats (parquet, npy without pickle, json) need only their content hash. skops files
load only with types from :data:`SAFE_MODULES`, plus the pipeline's own packages for sealed
objects (``trusted_modules``).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import threading
from pathlib import Path

from jupyter_mlops.errors import ArtifactError

STATE_ENV = "JUPYTER_MLOPS_STATE_DIR"
KEY_FILE = "artifact-key"
KEY_BYTES = 32
DATA_SERIALIZERS = frozenset({"parquet", "npy", "json"})
"""Built-in formats whose loading runs no code: a content hash check is enough."""
MODEL_KIND = "mlflow-model"
"""The serializer name sealed for a logged MLflow model folder (:func:`folder_digest`)."""
SAFE_MODULES = frozenset({"sklearn", "numpy", "scipy"})
"""Top-level modules whose types a skops file may hold whoever wrote it."""

_lock = threading.Lock()
_keys: dict[Path, bytes] = {}


def state_dir() -> Path:
    """The per-user folder of the key: ``$JUPYTER_MLOPS_STATE_DIR``, else the XDG state dir."""
    explicit = os.environ.get(STATE_ENV)
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "jupyter_mlops"


def _create_key(path: Path) -> None:
    """Write a new random key beside ``path`` and link it into place (an existing key wins)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{KEY_FILE}.{secrets.token_hex(8)}.tmp")
    descriptor = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(secrets.token_bytes(KEY_BYTES))
            file.flush()
            os.fsync(file.fileno())
        with contextlib.suppress(FileExistsError):  # another process made one first: use it
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def user_key() -> bytes:
    """This user's sealing key, created on first use; ``ArtifactError`` naming the file when
    it cannot be read or created, or is not a key."""
    path = state_dir() / KEY_FILE
    with _lock:
        if path in _keys:
            return _keys[path]
        try:
            if not path.exists():
                _create_key(path)
            key = path.read_bytes()
        except OSError as exc:
            message = f"cannot read or create the artifact key: {exc}"
            raise ArtifactError(message, path=str(path)) from None
        if len(key) != KEY_BYTES:
            raise ArtifactError(
                f"artifact key is {len(key)} bytes, not {KEY_BYTES}: delete it to make a new one "
                "(cached pickled results are then re-computed)",
                path=str(path),
            )
        _keys[path] = key
        return key


def seal(digest: str, serializer: str) -> str:
    """The seal of an object this tool wrote: HMAC-SHA256 of its hash and serializer name."""
    message = f"{digest}:{serializer}".encode()
    return hmac.new(user_key(), message, hashlib.sha256).hexdigest()


def is_sealed(digest: str, serializer: str, claimed: object) -> bool:
    """True when ``claimed`` is the valid seal of ``digest`` written with ``serializer``."""
    return isinstance(claimed, str) and hmac.compare_digest(claimed, seal(digest, serializer))


def needs_seal(serializer: str) -> bool:
    """Whether loading a file of this serializer may run code (everything but data formats)."""
    return serializer not in DATA_SERIALIZERS


def own_packages(folder: Path) -> frozenset[str]:
    """The Python packages directly in a pipeline folder (the pipeline's own code)."""
    try:
        return frozenset(
            entry.name
            for entry in folder.iterdir()
            if entry.name.isidentifier() and (entry / "__init__.py").is_file()
        )
    except OSError:
        return frozenset()


def store_packages(object_path: str | os.PathLike[str]) -> frozenset[str]:
    """The pipeline's own packages for a file in its store
    (``<pipeline>/.mlops/objects/<xx or tmp>/<file>``); empty when the path is shorter."""
    parents = Path(object_path).absolute().parents
    return own_packages(parents[3]) if len(parents) > 3 else frozenset()


def untrusted_types(type_names: list[str], modules: frozenset[str]) -> list[str]:
    """The names among ``type_names`` whose top-level module is not in ``modules``."""
    return [name for name in type_names if name.partition(".")[0] not in modules]


MLFLOW_META = "registered_model_meta"


def folder_digest(folder: str | os.PathLike[str]) -> str:
    """sha256 over every file of ``folder``: sorted relative paths and their sha256 (an MLflow
    model folder, sealed at registration and checked before it is loaded back). MLflow's
    ``registered_model_meta`` (name and version, YAML, never executed) is left out: MLflow
    writes it into the model folder itself whenever ``models:/…`` is loaded."""
    root = Path(folder)
    total = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p != root / MLFLOW_META):
        content = hashlib.sha256(path.read_bytes()).hexdigest()
        total.update(f"{path.relative_to(root).as_posix()}\0{content}\n".encode())
    return total.hexdigest()
