"""Garbage collection of a pipeline's artifact store (``jupyter mlops gc``) and its size.

An object of ``<pipeline>/.mlops/objects`` is kept when a kept step cache entry
(``.mlops/cache/<step>/<key>.json``) references it, or when an item a run still owes MLflow
(``.mlops/runs/<run>.json``, ``execute/run_state.py``) names it. Without ``keep_runs`` every
cache entry is kept, so only unreferenced objects go: those of failed, killed or
invalidated steps. With ``keep_runs=N`` each step keeps the cache entries of its N most
recent results (by the time each was recorded); older entries go, and the objects only
they referenced with them.

A collection holds the pipeline's run lock (``execute/run_lock.py``), so no run writes the
store meanwhile; a dry run takes no lock and removes nothing. Cache entries are removed
before the objects they reference, so an interrupted collection leaves at worst objects
no entry references, which the next collection removes.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyter_mlops.artifacts.store import META_SUFFIX, ArtifactStore
from jupyter_mlops.errors import MlopsError
from jupyter_mlops.execute.cache import CacheEntry
from jupyter_mlops.execute.run_lock import pipeline_lock
from jupyter_mlops.execute.run_state import RunState

_OBJECT_FILE = re.compile(r"([0-9a-f]{64})\.")


@dataclass(frozen=True)
class StoreUsage:
    """How much a store holds: objects (with their meta files) and their bytes."""

    objects: int
    bytes: int

    def to_json(self) -> dict[str, int]:
        return {"objects": self.objects, "bytes": self.bytes}


@dataclass(frozen=True)
class RemovedObject:
    """An object the collection removed (or would remove)."""

    hash: str
    bytes: int
    type: str | None


@dataclass
class Collection:
    """What one collection removed (``dry_run``: would remove) and what it kept."""

    dry_run: bool
    removed: list[RemovedObject] = field(default_factory=list)
    removed_entries: list[str] = field(default_factory=list)  # "<step>/<key>"
    removed_temp_files: int = 0
    kept: StoreUsage = StoreUsage(0, 0)

    @property
    def freed_bytes(self) -> int:
        return sum(item.bytes for item in self.removed)

    def to_json(self) -> dict[str, Any]:
        """The ``gc --json`` contract."""
        return {
            "dry_run": self.dry_run,
            "removed": [vars(item) for item in self.removed],
            "removed_cache_entries": self.removed_entries,
            "removed_temp_files": self.removed_temp_files,
            "freed_bytes": self.freed_bytes,
            "kept": self.kept.to_json(),
        }


def store_usage(store: ArtifactStore) -> StoreUsage:
    """The objects in ``store`` and the bytes they take (meta files included)."""
    files = _object_files(store)
    return StoreUsage(len(files), sum(_size(path) for paths in files.values() for path in paths))


def collect_garbage(
    folder: Path, keep_runs: int | None = None, dry_run: bool = False
) -> Collection:
    """Remove the objects of pipeline ``folder``'s store that nothing kept references."""
    if keep_runs is not None and keep_runs < 1:
        raise MlopsError(f"--keep-runs must be at least 1, not {keep_runs}", name="keep_runs")
    store = ArtifactStore.for_pipeline(folder)
    if dry_run:
        return _plan(store, keep_runs, dry_run=True)[0]
    with pipeline_lock(folder, command="jupyter mlops gc"):
        collection, entries, files = _plan(store, keep_runs, dry_run=False)
        for path in entries:
            path.unlink(missing_ok=True)
        for item in collection.removed:
            for path in files[item.hash]:  # the object before its meta: never a meta alone
                path.unlink(missing_ok=True)
        collection.removed_temp_files = store.clean_temp()
    return collection


def _plan(
    store: ArtifactStore, keep_runs: int | None, dry_run: bool
) -> tuple[Collection, list[Path], dict[str, list[Path]]]:
    """(the collection, the cache entry files it removes, every object's files)."""
    kept_entries, dropped_entries = _split_entries(store, keep_runs)
    keep = _owed_hashes(store) | {h for entry in kept_entries.values() for h in entry}
    files = _object_files(store)
    collection = Collection(dry_run=dry_run)
    collection.removed_entries = [f"{p.parent.name}/{p.stem}" for p in dropped_entries]
    for digest in sorted(set(files) - keep):
        size = sum(_size(path) for path in files[digest])
        collection.removed.append(RemovedObject(digest, size, _type_of(store, digest)))
    kept = [path for digest in set(files) & keep for path in files[digest]]
    collection.kept = StoreUsage(len(set(files) & keep), sum(_size(p) for p in kept))
    return collection, dropped_entries, files


def _split_entries(
    store: ArtifactStore, keep_runs: int | None
) -> tuple[dict[Path, set[str]], list[Path]]:
    """The cache entries kept (file → hashes it references) and the entry files dropped:
    per step, all but the ``keep_runs`` most recently recorded."""
    kept: dict[Path, set[str]] = {}
    dropped: list[Path] = []
    cache_root = Path(store.root) / "cache"
    steps = sorted(p for p in cache_root.iterdir() if p.is_dir()) if cache_root.is_dir() else []
    for step in steps:
        entries = sorted(step.glob("*.json"), key=_mtime, reverse=True)
        for rank, path in enumerate(entries):
            hashes = _entry_hashes(path)
            if keep_runs is None or rank < keep_runs or hashes is None:
                kept[path] = hashes or set()
            else:
                dropped.append(path)
    return kept, dropped


def _entry_hashes(path: Path) -> set[str] | None:
    """The hashes a cache entry references; None when it cannot be read (it is left)."""
    try:
        entry = CacheEntry.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError, AttributeError, MlopsError):
        return None
    return {ref.hash for ref in entry.outputs.values()}


def _owed_hashes(store: ArtifactStore) -> set[str]:
    """The objects runs still owe MLflow records or registrations of; refuses to collect
    when a run state cannot be read (it may name objects that must stay)."""
    hashes: set[str] = set()
    for path in sorted((Path(store.root) / "runs").glob("*.json")):
        state = RunState.read(path)
        if state is None:
            raise MlopsError(
                "cannot read this run state, which may name artifacts a run still owes "
                "MLflow: nothing was removed (move the file away to collect anyway)",
                path=str(path),
            )
        hashes |= {h for item in state.owed for h in item.outputs.values()}
    return hashes


def _object_files(store: ArtifactStore) -> dict[str, list[Path]]:
    """Every object's files (object, then meta), complete or not, by hash."""
    found: dict[str, list[Path]] = {}
    if not store.objects_dir.is_dir():
        return found
    for shard in sorted(store.objects_dir.iterdir()):
        if len(shard.name) != 2 or not shard.is_dir():
            continue
        for path in sorted(shard.iterdir(), key=lambda p: p.name.endswith(META_SUFFIX)):
            match = _OBJECT_FILE.match(path.name)
            if match and path.is_file():
                found.setdefault(match.group(1), []).append(path)
    return found


def _type_of(store: ArtifactStore, digest: str) -> str | None:
    with contextlib.suppress(MlopsError, OSError, KeyError, TypeError):
        return str(store.meta(digest)["type"])
    return None


def _size(path: Path) -> int:
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return 0


def _mtime(path: Path) -> float:
    try:
        return os.stat(path).st_mtime
    except FileNotFoundError:
        return 0.0
