"""No code runs from data files: crafted pickles in the store or in the fixtures are refused.

Each payload, when unpickled, creates a marker file; every test checks the marker is absent.
The sealing key lives in the throwaway ``JUPYTER_MLOPS_STATE_DIR`` set by ``tests/conftest.py``.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cloudpickle
import pytest
from quality_pipeline import cli, copy_pipeline, extracted_and_run

from jupyter_mlops.artifacts.serializers.estimators import SkopsSerializer
from jupyter_mlops.artifacts.store import ArtifactRef, ArtifactStore, load_object
from jupyter_mlops.errors import ArtifactError, FixtureError, UntrustedArtifactError
from jupyter_mlops.execute.cache import CacheEntry, StepCache
from jupyter_mlops.quality.fixture_files import (
    MANIFEST,
    fixtures_dir,
    load_fixture,
    read_pinned_manifest,
    write_pin,
)


class Payload:
    """Unpickling this opens (creates) ``marker`` for writing: the proof code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (self.marker, "w"))


def payload_bytes(marker: Path) -> bytes:
    return cloudpickle.dumps(Payload(marker))


@pytest.fixture(autouse=True)
def counted(tmp_path: Path, figures: Any) -> Iterator[None]:
    """Each test plants one payload writing ``tmp_path/pwned``: count whether it ran."""
    yield
    figures.add(
        "Crafted files: pickled fixture, store object, cache entry, fixture paths leading out",
        payloads=1,
        code_executed=int((tmp_path / "pwned").exists()),
    )


def plant_object(store: ArtifactStore, data: bytes, meta: dict[str, Any] | None = None) -> str:
    """Put ``data`` into the store as a cloudpickle object named by its own sha256, as an
    attacker with write access to the pipeline folder could; returns the hash."""
    digest = hashlib.sha256(data).hexdigest()
    shard = store.objects_dir / digest[:2]
    shard.mkdir(parents=True, exist_ok=True)
    (shard / f"{digest}.pkl").write_bytes(data)
    fields = {"hash": digest, "serializer": "cloudpickle", "extension": "pkl", "type": "x"}
    (shard / f"{digest}.meta.json").write_text(json.dumps(fields | (meta or {})))
    return digest


def test_a_crafted_store_object_is_refused_and_never_unpickled(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    store = ArtifactStore(tmp_path / ".mlops")
    digest = plant_object(store, payload_bytes(marker))
    assert store.verify(digest)  # its content hash is right: only the seal is missing
    with pytest.raises(UntrustedArtifactError, match="not written by this user's jupyter_mlops"):
        store.get(digest)
    with pytest.raises(UntrustedArtifactError):
        load_object(store.path_of(digest))  # what step workers call
    assert not marker.exists()


def test_a_seal_copied_from_another_object_does_not_trust_a_payload(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    store = ArtifactStore(tmp_path / ".mlops")
    genuine = store.put("value", (1, 2))  # a tuple: cloudpickle, sealed by put
    assert store.get(genuine) == (1, 2)
    digest = plant_object(store, payload_bytes(marker), {"seal": store.meta(genuine.hash)["seal"]})
    assert store.trusted(genuine.hash) and not store.trusted(digest)
    with pytest.raises(UntrustedArtifactError):
        store.get(digest)
    assert not marker.exists()


def test_a_cache_entry_pointing_to_a_crafted_object_is_a_miss_with_a_warning(
    tmp_path: Path,
) -> None:
    marker = tmp_path / "pwned"
    store = ArtifactStore(tmp_path / ".mlops")
    digest = plant_object(store, payload_bytes(marker))
    cache = StepCache(store)
    ref = ArtifactRef("model", digest, "cloudpickle", "x")
    cache.record("train", CacheEntry("k" * 64, {"model": ref}, 1.0))
    warnings: list[str] = []
    assert cache.lookup("train", "k" * 64, ["model"], warnings) is None
    assert len(warnings) == 1
    assert "cached output 'model'" in warnings[0] and digest in warnings[0]
    assert "the step re-runs" in warnings[0]
    assert not marker.exists()


def test_skops_loads_refuse_types_outside_sklearn_numpy_scipy(tmp_path: Path) -> None:
    import skops.io as sio
    from sklearn.preprocessing import FunctionTransformer

    path = tmp_path / "model.skops"
    sio.dump(FunctionTransformer(func=json.dumps), path)
    with pytest.raises(ValueError, match="outside numpy, scipy, sklearn: json.dumps"):
        SkopsSerializer().load(path)
    sio.dump(FunctionTransformer(func=hashlib.sha256), path)  # a builtin function: refused too
    with pytest.raises(ValueError, match="_hashlib.openssl_sha256"):
        SkopsSerializer().load(path)


def test_skops_store_objects_trust_the_pipelines_own_package_only_when_sealed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sklearn.preprocessing import FunctionTransformer

    package = tmp_path / "trust_pipe_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("def double(x):\n    return x * 2\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import trust_pipe_pkg

    store = ArtifactStore.for_pipeline(tmp_path)
    own = store.put("model", FunctionTransformer(func=trust_pipe_pkg.double))
    assert own.serializer == "skops"
    assert store.get(own).func is trust_pipe_pkg.double
    other = store.put("model", FunctionTransformer(func=json.dumps))
    assert other.serializer == "joblib"  # json.dumps: not for skops, sealed joblib instead
    assert store.get(other).func is json.dumps
    meta_path = store.meta_path(own.hash)
    meta = json.loads(meta_path.read_text())
    meta_path.write_text(json.dumps({k: v for k, v in meta.items() if k != "seal"}))
    with pytest.raises(ArtifactError, match="types outside numpy, scipy, sklearn: trust_pipe_pkg"):
        store.get(own)


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ran")
    extracted_and_run(root)
    return root


@pytest.fixture
def pipeline(ran: Path, tmp_path: Path) -> Path:
    return copy_pipeline(ran, tmp_path / "copy")


def swap_fixture_for_payload(pipeline: Path, key: str, marker: Path) -> Path:
    """Replace fixture ``key`` by a cloudpickle payload, manifest updated to match (the
    serializer, file and its sha256), as someone committing into the repository could."""
    folder = fixtures_dir(pipeline)
    manifest = json.loads((folder / MANIFEST).read_text())
    item = manifest["fixtures"][key]
    (folder / item["file"]).unlink()
    data = payload_bytes(marker)
    item |= {"file": f"{key}.pkl", "serializer": "cloudpickle"}
    item["sha256"] = hashlib.sha256(data).hexdigest()
    (folder / item["file"]).write_bytes(data)
    (folder / MANIFEST).write_text(json.dumps(manifest))
    return folder / item["file"]


def test_a_pickled_fixture_committed_with_its_manifest_is_refused(
    pipeline: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "pwned"
    swap_fixture_for_payload(pipeline, "split.X_train", marker)
    done = cli("test", str(pipeline), "-q", "-p", "no:cacheprovider", "-k", "arrays and types")
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "fixture manifest changed since capture" in out, out
    assert "tests/fixtures_pin.py" in out and "jupyter mlops fixtures PIPELINE" in out
    assert not marker.exists()


def test_a_fixture_file_swapped_under_its_manifest_is_refused(
    pipeline: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "pwned"
    manifest = read_pinned_manifest(pipeline)
    assert manifest is not None
    file = fixtures_dir(pipeline) / manifest["fixtures"]["split.X_train"]["file"]
    file.write_bytes(payload_bytes(marker))
    with pytest.raises(FixtureError, match=f"fixture {file.name} changed since capture"):
        load_fixture(pipeline, "split.X_train")
    assert not marker.exists()


@pytest.mark.parametrize("name", ["/etc/passwd", "../pipeline.yaml", "sub/x.pkl", ".."])
def test_a_fixture_path_leaving_the_fixtures_folder_is_refused(pipeline: Path, name: str) -> None:
    folder = fixtures_dir(pipeline)
    manifest = json.loads((folder / MANIFEST).read_text())
    manifest["fixtures"]["split.X_train"]["file"] = name
    (folder / MANIFEST).write_text(json.dumps(manifest))
    write_pin(pipeline)  # even with the pin updated
    with pytest.raises(FixtureError, match="must be plain names inside tests/fixtures/"):
        load_fixture(pipeline, "split.X_train")


def test_a_symlinked_fixture_is_refused(pipeline: Path, tmp_path: Path) -> None:
    manifest = read_pinned_manifest(pipeline)
    assert manifest is not None
    file = fixtures_dir(pipeline) / manifest["fixtures"]["split.X_train"]["file"]
    outside = tmp_path / "outside.parquet"
    outside.write_bytes(file.read_bytes())
    file.unlink()
    os.symlink(outside, file)
    with pytest.raises(FixtureError, match="is a symlink or lies outside tests/fixtures/"):
        load_fixture(pipeline, "split.X_train")


def test_a_crafted_cache_entry_makes_the_step_re_run_and_loads_nothing(
    pipeline: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "pwned"
    store = ArtifactStore.for_pipeline(pipeline)
    digest = plant_object(store, payload_bytes(marker))
    for path in (store.root / "cache" / "train").glob("*.json"):
        entry = json.loads(path.read_text())
        entry["outputs"]["model"] |= {"hash": digest, "serializer": "cloudpickle"}
        path.write_text(json.dumps(entry))
    notebook = pipeline.parent.parent / "quality.ipynb"
    done = cli("run", str(notebook), "--engine", "inprocess", "--no-track")
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert "succeeded: 4 cached, 1 ran" in out, out
    assert "warning: step 'train': cached output 'model' (cloudpickle" in out, out
    assert digest in out
    assert not marker.exists()
