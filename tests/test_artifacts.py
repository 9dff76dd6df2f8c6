"""The content-addressed store: addressing, metadata, atomicity, verification."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from jupyter_mlops.artifacts.store import ArtifactRef, ArtifactStore, hash_file, load_object
from jupyter_mlops.errors import ArtifactError


@pytest.fixture
def store(tmp_path: Path) -> ArtifactStore:
    return ArtifactStore(tmp_path / "store")


def object_files(store: ArtifactStore) -> list[Path]:
    return sorted(
        p
        for p in store.objects_dir.rglob("*")
        if p.is_file() and p.parent.name != "tmp" and not p.name.endswith(".meta.json")
    )


def test_put_writes_object_named_by_its_sha256_and_meta_beside(store: ArtifactStore) -> None:
    frame = pd.DataFrame({"x": [1, 2, 3], "y": ["a", "b", "c"]})
    ref = store.put("features", frame)
    path = store.path_of(ref.hash)
    assert path == store.root / "objects" / ref.hash[:2] / f"{ref.hash}.parquet"
    assert hash_file(path) == ref.hash
    meta = json.loads(path.with_name(f"{ref.hash}.meta.json").read_text())
    assert meta["serializer"] == "parquet"
    assert meta["type"] == ref.type == "pandas.DataFrame"
    assert meta["summary"] == {"shape": [3, 2], "dtypes": {"x": "int64", "y": "str"}}
    assert (ref.name, ref.serializer, ref.summary) == ("features", "parquet", meta["summary"])
    pd.testing.assert_frame_equal(store.get(ref), frame)
    pd.testing.assert_frame_equal(store.get(ref.hash), frame)


def test_summaries(store: ArtifactStore) -> None:
    assert store.put("a", np.zeros((2, 3), dtype=np.int8)).summary == {
        "shape": [2, 3],
        "dtype": "int8",
    }
    assert store.put("s", pd.Series([1.0], name="v")).summary == {
        "shape": [1],
        "dtype": "float64",
    }
    assert store.put("l", [1, 2, 3]).summary == {"len": 3}
    assert store.put("t", (1, 2)).summary == {"len": 2}
    assert store.put("n", 5).summary == {}
    assert store.put("t", (1, 2)).type == "tuple"


def test_same_value_same_hash_stored_once(store: ArtifactStore) -> None:
    first = store.put("a", {"k": [1, 2, 3]})
    second = store.put("b", {"k": [1, 2, 3]})
    other = store.put("c", {"k": [1, 2, 4]})
    assert first.hash == second.hash != other.hash
    assert (first.name, second.name) == ("a", "b")
    assert len(object_files(store)) == 2
    assert list(store.hashes()) == sorted({first.hash, other.hash})
    assert list(store.tmp_dir.iterdir()) == []


def test_ref_dict_roundtrip(store: ArtifactStore) -> None:
    ref = store.put("arr", np.arange(4))
    data = json.loads(json.dumps(ref.to_dict()))
    assert ArtifactRef.from_dict(data) == ref
    assert store.ref("other", ref.hash) == ArtifactRef(
        "other", ref.hash, ref.serializer, ref.type, ref.summary
    )
    assert hash(ref) == hash(ArtifactRef.from_dict(data))


@pytest.mark.parametrize(
    "data",
    [{"name": "x"}, {"name": "x", "hash": "abc", "serializer": "json", "type": "int"}],
)
def test_invalid_ref_dict_is_an_artifact_error(data: dict[str, str]) -> None:
    with pytest.raises(ArtifactError):
        ArtifactRef.from_dict(data)


def test_leftover_temp_file_is_not_an_artifact_and_is_cleaned(store: ArtifactStore) -> None:
    ref = store.put("x", [1])
    leftover = store.tmp_dir / "3f2a9c.parquet"
    leftover.write_bytes(b"PAR1 half written")
    meta_leftover = store.tmp_dir / f".{'a' * 64}.meta.json.3f2a9c.tmp"
    meta_leftover.write_text('{"serializer": "js')
    assert list(store.hashes()) == [ref.hash]
    with pytest.raises(ArtifactError, match="not an artifact object file"):
        load_object(leftover)
    assert store.clean_temp() == 2
    assert list(store.tmp_dir.iterdir()) == []
    assert store.verify(ref.hash)


def test_clean_temp_keeps_recent_files_when_given_an_age(store: ArtifactStore) -> None:
    store.tmp_dir.mkdir(parents=True)
    old = store.tmp_dir / "old.pkl"
    new = store.tmp_dir / "new.pkl"
    old.write_bytes(b"x")
    new.write_bytes(b"x")
    an_hour_ago = time.time() - 3600
    os.utime(old, (an_hour_ago, an_hour_ago))
    assert store.clean_temp(max_age=600) == 1
    assert [p.name for p in store.tmp_dir.iterdir()] == ["new.pkl"]
    assert ArtifactStore(store.root / "nowhere").clean_temp() == 0


def test_truncated_object_fails_verify_and_get(store: ArtifactStore) -> None:
    ref = store.put("frame", pd.DataFrame({"x": range(100)}))
    path = store.path_of(ref.hash)
    assert store.verify(ref.hash)
    path.write_bytes(path.read_bytes()[:-10])
    assert not store.verify(ref.hash)
    with pytest.raises(ArtifactError, match="corrupt") as info:
        store.get(ref)
    assert info.value.path == str(path)


def test_put_again_repairs_a_corrupted_object(store: ArtifactStore) -> None:
    ref = store.put("x", [1, 2])
    store.path_of(ref.hash).write_bytes(b"[1, 3]")
    assert not store.verify(ref.hash)
    assert store.put("x", [1, 2]) == ref
    assert store.verify(ref.hash)


def test_missing_object_or_meta_fails_verify(store: ArtifactStore) -> None:
    kept = store.put("a", "kept")
    ref = store.put("b", "object gone")
    meta_gone = store.put("c", "meta gone")
    store.path_of(ref.hash).unlink()
    meta_path = store.meta_path(meta_gone.hash)
    meta_path.unlink()
    assert store.verify(kept.hash)
    assert not store.verify(ref.hash)
    assert not store.verify(meta_gone.hash)
    assert not store.verify("0" * 64)
    assert not store.verify("../../etc")
    assert list(store.hashes()) == [kept.hash]
    with pytest.raises(ArtifactError, match="missing"):
        store.get(ref)
    with pytest.raises(ArtifactError, match="no meta file"):
        store.get(meta_gone)


def test_invalid_hash_is_rejected(store: ArtifactStore) -> None:
    with pytest.raises(ArtifactError, match="is not an artifact hash"):
        store.get("../secrets")


def test_unserializable_value_leaves_nothing_behind(store: ArtifactStore) -> None:
    with pytest.raises(ArtifactError, match="cannot store 'gen' of type generator"):
        store.put("gen", (i for i in range(3)))
    assert list(store.tmp_dir.iterdir()) == []
    assert list(store.hashes()) == []


def test_meta_names_an_unknown_serializer(store: ArtifactStore) -> None:
    ref = store.put("x", [1])
    meta_path = store.meta_path(ref.hash)
    meta = json.loads(meta_path.read_text())
    meta["serializer"] = "feather"
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ArtifactError, match="no serializer named 'feather'"):
        store.get(ref)


def test_store_for_pipeline_lives_in_dot_mlops(tmp_path: Path) -> None:
    store = ArtifactStore.for_pipeline(tmp_path)
    ref = store.put("x", 1)
    assert store.path_of(ref.hash).is_relative_to(tmp_path / ".mlops" / "objects")


def test_importing_artifacts_and_stepio_imports_no_heavy_library() -> None:
    heavy = ["pandas", "numpy", "sklearn", "skops", "cloudpickle", "pyarrow", "joblib", "mlflow"]
    code = (
        "import sys, jupyter_mlops.artifacts.store, jupyter_mlops.runtime.stepio, jupyter_mlops.artifacts.serializers.registry\n"
        f"print([m for m in {heavy!r} if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
