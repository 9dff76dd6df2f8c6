"""Executor names, the ``resources:`` section and the shared store's checks, without a cluster."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jupyter_mlops.artifacts.shared_store import open_shared_store
from jupyter_mlops.artifacts.store import ArtifactStore
from jupyter_mlops.errors import ArtifactError, ExecutorError, PipelineError, StoreUrlError
from jupyter_mlops.execute.cache import CacheEntry, StepCache
from jupyter_mlops.execute.executors.base import (
    ExecutorSettings,
    LocalExecutor,
    check_executor,
    get_executor,
    parallel_steps,
)
from jupyter_mlops.execute.executors.resources import parse_resources, step_resources


def test_executors_by_name() -> None:
    assert isinstance(get_executor("local", ExecutorSettings(engine="inprocess")), LocalExecutor)
    with pytest.raises(ExecutorError, match=r"unknown executor 'ray' \(available: dask, local\)"):
        check_executor("ray", ExecutorSettings())
    with pytest.raises(ExecutorError, match="--scheduler needs --executor dask"):
        check_executor("local", ExecutorSettings(scheduler="tcp://127.0.0.1:8786"))
    assert parallel_steps("local", ExecutorSettings(workers=3), 100) == 3
    assert parallel_steps("dask", ExecutorSettings(), 100) == 100


def test_resources_in_both_spellings() -> None:
    assert parse_resources("cpu=2,memory=4GB", "r") == {"cpu": 2.0, "memory": 4e9}
    assert parse_resources({"cpu": 0.5, "memory": "1.5GiB", "gpu": 1}, "r") == {
        "cpu": 0.5,
        "memory": 1.5 * 2**30,
        "gpu": 1.0,
    }
    section = {"train": {"cpu": 4}, "load": "memory=500MB"}
    assert step_resources(section, ["load", "train"], "p.yaml") == {
        "train": {"cpu": 4.0},
        "load": {"memory": 5e8},
    }
    assert step_resources(None, ["load"], "p.yaml") == {}


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"trian": {"cpu": 1}}, r"no step named 'trian' \(steps: load, train\)"),
        ({"train": "cpu"}, "write name=amount pairs"),
        ({"train": {"cpu": "2GB"}}, r"resources.train.cpu: '2GB' is not an amount"),
        ({"train": {"memory": "4 lots"}}, "memory units: KB MB GB TB"),
        ({"train": {"cpu": 0}}, "resources.train.cpu: the amount must be positive"),
        ({"train": {}}, "give amounts"),
        (["train"], "must map step names to resources"),
    ],
)
def test_bad_resources_are_named(section: object, message: str) -> None:
    with pytest.raises(PipelineError, match=message):
        step_resources(section, ["load", "train"], "p.yaml")


def test_bad_store_urls_are_named(tmp_path: Path) -> None:
    with pytest.raises(StoreUrlError, match="--store nope://x: Protocol not known: nope"):
        open_shared_store("nope://x")
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(StoreUrlError, match=f"--store {blocker}/store cannot be used"):
        open_shared_store(f"{blocker}/store")


def test_a_path_store_shares_objects_and_cache_entries(tmp_path: Path) -> None:
    shared = open_shared_store(str(tmp_path / "shared"))
    first = ArtifactStore(tmp_path / "one" / ".mlops")
    ref = first.put("numbers", [1, 2, 3])
    StepCache(first, shared).record("load", CacheEntry("k" * 64, {"numbers": ref}, 0.5))

    second = ArtifactStore(tmp_path / "two" / ".mlops")
    entry = StepCache(second, shared).lookup("load", "k" * 64, ["numbers"])
    assert entry is not None and entry.outputs["numbers"].hash == ref.hash
    assert second.get(ref) == [1, 2, 3]
    assert second.path_of(ref.hash).read_bytes() == first.path_of(ref.hash).read_bytes()
    assert second.meta_path(ref.hash).read_bytes() == first.meta_path(ref.hash).read_bytes()
    assert json.loads((tmp_path / "shared" / "store.json").read_text()) == {"format": 1}


def test_a_corrupt_shared_object_is_never_kept(tmp_path: Path) -> None:
    shared = open_shared_store(str(tmp_path / "shared"))
    first = ArtifactStore(tmp_path / "one")
    ref = first.put("numbers", [1, 2, 3])
    StepCache(first, shared).record("load", CacheEntry("k" * 64, {"numbers": ref}, 0.5))
    (object_file,) = (tmp_path / "shared" / "objects").glob(f"??/{ref.hash}.[!m]*")
    object_file.write_bytes(b"tampered")

    second = ArtifactStore(tmp_path / "two")
    assert StepCache(second, shared).lookup("load", "k" * 64, ["numbers"]) is None
    assert not second.verify(ref.hash)
    with pytest.raises(ArtifactError, match="does not match its hash"):
        shared.download(second, ref.hash)
