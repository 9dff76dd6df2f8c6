"""Step cache: a key from everything a step's result depends on, and an index of past results.

key = sha256(normalized step code, normalized setup definitions it uses, parameter values,
input artifact hashes, tool version). Normalizing through the AST drops comments,
whitespace and docstrings, so cosmetic edits keep the cache.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jupyter_mlops import __version__
from jupyter_mlops.artifacts.store import ArtifactRef, ArtifactStore, write_json_atomic
from jupyter_mlops.errors import ArtifactError

if TYPE_CHECKING:
    from jupyter_mlops.artifacts.shared_store import SharedStore


def normalized_code(source: str) -> str:
    """A canonical form of Python source: no comments, formatting or docstrings."""
    return ast.dump(_strip_docstrings(ast.parse(source)))


def _strip_docstrings(tree: ast.Module) -> ast.Module:
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]
    return tree


def setup_definitions(common_source: str) -> dict[str, str]:
    """Each top-level name of the setup module → the normalized code that defines it."""
    definitions: dict[str, str] = {}
    for node in _strip_docstrings(ast.parse(common_source)).body:
        names: list[str] = []
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names = [node.name]
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [t.id for t in targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.asname or a.name.split(".")[0] for a in node.names]
        for name in names:
            definitions[name] = ast.dump(node)
    return definitions


def cache_key(
    step_code: str,
    setup_code: Mapping[str, str],
    params: Mapping[str, Any],
    input_hashes: Mapping[str, str],
) -> str:
    """The cache key of one step execution (all arguments already normalized)."""
    payload = {
        "code": step_code,
        "setup": dict(sorted(setup_code.items())),
        "params": {k: repr(v) for k, v in sorted(params.items())},
        "inputs": dict(sorted(input_hashes.items())),
        "version": __version__,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class CacheEntry:
    """A successful past execution of a step: its outputs and where it was recorded."""

    key: str
    outputs: dict[str, ArtifactRef]
    seconds: float
    run_id: str | None = None
    parent_run_id: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    model_version: str | None = None  # the registered version of a --model step's model
    model_name: str | None = None  # the registered model of that version (None: older entry)
    tracking_uri: str | None = None  # the store run_id and model_version are in (None: older)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "outputs": {name: ref.to_dict() for name, ref in sorted(self.outputs.items())},
            "seconds": self.seconds,
            "run_id": self.run_id,
            "parent_run_id": self.parent_run_id,
            "metrics": self.metrics,
            "model_version": self.model_version,
            "model_name": self.model_name,
            "tracking_uri": self.tracking_uri,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CacheEntry:
        return cls(
            key=data["key"],
            outputs={n: ArtifactRef.from_dict(r) for n, r in data["outputs"].items()},
            seconds=float(data["seconds"]),
            run_id=data.get("run_id"),
            parent_run_id=data.get("parent_run_id"),
            metrics=dict(data.get("metrics") or {}),
            model_version=data.get("model_version"),
            model_name=data.get("model_name"),
            tracking_uri=data.get("tracking_uri"),
        )


def untrusted_warning(store: ArtifactStore, ref: ArtifactRef) -> str:
    """The line saying a cached output was not loaded because this user's tool did not seal it."""
    return (
        f"cached output '{ref.name}' ({ref.serializer}, {store.path_of(ref.hash)}) was not "
        "written by this user's jupyter_mlops: not loaded (it could run code); the step re-runs"
    )


class StepCache:
    """The index of completed steps under ``<store>/cache/<step>/<key>.json``; with a
    ``shared`` store (``--store URL``), also the index there: an entry found only there is
    taken, its outputs copied into the local store, so another machine's results are reused."""

    def __init__(self, store: ArtifactStore, shared: SharedStore | None = None) -> None:
        self.store = store
        self.shared = shared
        self.root = Path(store.root) / "cache"

    def _path(self, step: str, key: str) -> Path:
        return self.root / step / f"{key}.json"

    def lookup(
        self, step: str, key: str, outputs: list[str], warnings: list[str] | None = None
    ) -> CacheEntry | None:
        """The entry for ``key`` when it exists, covers ``outputs`` and every object is intact
        and trusted (``ArtifactStore.trusted``). An untrusted object is a miss, never loaded:
        one line naming it is appended to ``warnings``."""
        entry: CacheEntry | None
        try:
            entry = CacheEntry.from_dict(json.loads(self._path(step, key).read_text()))
        except (OSError, ValueError, KeyError, TypeError):
            entry = self._shared_entry(step, key)
        if entry is None:
            return None
        if set(outputs) - set(entry.outputs):
            return None
        if not all(self.store.verify(ref.hash) for ref in entry.outputs.values()):
            return None
        untrusted = [ref for ref in entry.outputs.values() if not self.store.trusted(ref.hash)]
        if untrusted and warnings is not None:
            warnings += [untrusted_warning(self.store, ref) for ref in untrusted]
        return None if untrusted else entry

    def record(self, step: str, entry: CacheEntry) -> None:
        """Remember a successful execution (written atomically, after its outputs)."""
        path = self._path(step, entry.key)
        os.makedirs(path.parent, exist_ok=True)
        write_json_atomic(path, entry.to_dict())
        if self.shared is not None:
            for ref in entry.outputs.values():
                self.shared.upload(self.store, ref.hash)
            self.shared.write_entry(step, entry.key, entry.to_dict())

    def _shared_entry(self, step: str, key: str) -> CacheEntry | None:
        """The shared store's entry, its outputs copied here and the entry recorded locally."""
        shared = self.shared
        data = shared.read_entry(step, key) if shared is not None else None
        if shared is None or data is None:
            return None
        try:
            entry = CacheEntry.from_dict(data)
            for ref in entry.outputs.values():
                shared.download(self.store, ref.hash)
        except (ArtifactError, KeyError, TypeError, ValueError):
            return None  # incomplete or corrupt there: the step runs again
        path = self._path(step, key)
        os.makedirs(path.parent, exist_ok=True)
        write_json_atomic(path, entry.to_dict())
        return entry
