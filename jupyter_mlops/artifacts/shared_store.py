"""A store shared by machines, addressed by URL through fsspec (``s3://bucket/prefix``, a path).

It has the layout of the local store (``store.py``) for objects, plus the step cache's index::

    objects/<hash[:2]>/<hash>.<ext>        the object, uploaded first
    objects/<hash[:2]>/<hash>.meta.json    its meta file (with the seal), uploaded after it
    cache/<step>/<key>.json                a cache entry, uploaded after its outputs
    store.json                             marks the store; written when it is first opened

A meta file present means its object is complete; an entry present means its outputs are.
Machines copy objects between the shared store and their local store (``<pipeline>/.mlops``),
where every load happens: downloads are re-hashed before they are moved into place, so a
truncated or altered object is never kept. S3 credentials and endpoint come from the usual
environment (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_ENDPOINT_URL`` or
``FSSPEC_S3_ENDPOINT_URL``...).
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

from jupyter_mlops.artifacts.store import (
    META_SUFFIX,
    ArtifactStore,
    hash_file,
    write_bytes_atomic,
)
from jupyter_mlops.errors import ArtifactError, StoreUrlError

MARKER = "store.json"
FORMAT = 1


class SharedStore:
    """The objects and cache entries under ``url``; open it with :func:`open_shared_store`."""

    def __init__(self, url: str, fs: Any, root: str) -> None:
        self.url = url
        self.fs = fs
        self.root = root.rstrip("/")
        self.local = _is_local(fs)
        self._present: set[str] = set()  # objects known complete here (never deleted by us)

    def __repr__(self) -> str:
        return f"SharedStore({self.url!r})"

    def _object_key(self, digest: str, extension: str) -> str:
        return f"{self.root}/objects/{digest[:2]}/{digest}.{extension}"

    def _meta_key(self, digest: str) -> str:
        return f"{self.root}/objects/{digest[:2]}/{digest}{META_SUFFIX}"

    def _entry_key(self, step: str, key: str) -> str:
        return f"{self.root}/cache/{step}/{key}.json"

    def has(self, digest: str) -> bool:
        """Whether the object ``digest`` is complete here (its meta file is present)."""
        if digest not in self._present and self.fs.exists(self._meta_key(digest)):
            self._present.add(digest)
        return digest in self._present

    def upload(self, local: ArtifactStore, digest: str) -> None:
        """Copy an object of ``local`` here (object first, then meta); present ones are kept."""
        if self.has(digest):
            return
        path = local.path_of(digest)
        extension = path.name.partition(".")[2]
        self._put(path, self._object_key(digest, extension))
        self._put(local.meta_path(digest), self._meta_key(digest))
        self._present.add(digest)

    def download(self, local: ArtifactStore, digest: str) -> None:
        """Copy the object ``digest`` into ``local`` unless it is intact there already; an
        ``ArtifactError`` naming the URL when it is missing here or does not hash to its name."""
        if local.verify(digest):
            return
        meta_bytes = self._read(self._meta_key(digest))
        extension = json.loads(meta_bytes)["extension"]
        local.tmp_dir.mkdir(parents=True, exist_ok=True)
        tmp = local.tmp_dir / uuid.uuid4().hex
        try:
            self._get(self._object_key(digest, extension), tmp)
            where = self._url(self._object_key(digest, extension))
            adopt_object(local, digest, meta_bytes, tmp, where)
            self._present.add(digest)
        finally:
            tmp.unlink(missing_ok=True)

    def copied_here(self, digest: str) -> None:
        """The object ``digest`` was uploaded by another process (a worker) just now."""
        self._present.add(digest)

    def read_entry(self, step: str, key: str) -> dict[str, Any] | None:
        """The cache entry of ``step`` for ``key``, or None when there is none."""
        try:
            data = json.loads(self._read(self._entry_key(step, key)))
        except (ArtifactError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def write_entry(self, step: str, key: str, data: dict[str, Any]) -> None:
        """Write a cache entry (after its outputs were uploaded)."""
        text = json.dumps(data, indent=2, sort_keys=True) + "\n"
        self._pipe(self._entry_key(step, key), text.encode())

    def _read(self, key: str) -> bytes:
        try:
            return bytes(self.fs.cat_file(key))
        except FileNotFoundError:
            raise ArtifactError("not in the shared store", path=self._url(key)) from None

    def _get(self, key: str, target: Path) -> None:
        try:
            self.fs.get_file(key, str(target))
        except FileNotFoundError:
            raise ArtifactError("not in the shared store", path=self._url(key)) from None

    def _put(self, source: Path, key: str) -> None:
        if not self.local:  # an object store's put is atomic
            self.fs.put_file(str(source), key)
            return
        Path(key).parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(key, source.read_bytes())

    def _pipe(self, key: str, data: bytes) -> None:
        if not self.local:
            self.fs.pipe_file(key, data)
            return
        Path(key).parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(key, data)

    def _url(self, key: str) -> str:
        return self.url.rstrip("/") + key[len(self.root) :]


def adopt_object(
    local: ArtifactStore, digest: str, meta_bytes: bytes, data: Path, where: str
) -> None:
    """Move the object file ``data`` (with its meta file's bytes) into ``local`` once it
    hashes to ``digest``, meta first; ``ArtifactError`` naming ``where`` it came from if not."""
    if hash_file(data) != digest:
        raise ArtifactError("shared object does not match its hash", path=where)
    extension = json.loads(meta_bytes)["extension"]
    target = local.objects_dir / digest[:2]
    target.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(local.meta_path(digest), meta_bytes, local.tmp_dir)
    os.replace(data, target / f"{digest}.{extension}")


def open_shared_store(url: str) -> SharedStore:
    """The shared store at ``url``, checked by reading (and on first use writing) its marker;
    ``StoreUrlError`` naming the URL and the reason when it cannot be used."""
    try:
        import fsspec
    except ImportError:
        raise StoreUrlError(
            f"--store {url}: needs fsspec; install jupyter_mlops[dask]", name="--store"
        ) from None
    try:
        fs, root = fsspec.core.url_to_fs(url)
    except (ValueError, ImportError) as error:
        raise StoreUrlError(f"--store {url}: {error}", name="--store") from None
    store = SharedStore(url, fs, root)
    try:
        if store.local:
            Path(root).mkdir(parents=True, exist_ok=True)
        if not fs.exists(f"{store.root}/{MARKER}"):
            store._pipe(f"{store.root}/{MARKER}", json.dumps({"format": FORMAT}).encode())
    except Exception as error:  # any file system, any failure: say which URL and why
        reason = f"{type(error).__name__}: {error}".rstrip(": ")
        raise StoreUrlError(f"--store {url} cannot be used: {reason}", name="--store") from None
    return store


def _is_local(fs: Any) -> bool:
    protocol = fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,)
    return "file" in protocol or "local" in protocol
