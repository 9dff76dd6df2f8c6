"""``jupyter mlops gc``: prune a pipeline's artifact store; ``show`` reports its size.

Real CLI subprocesses on a real pipeline (in-process engine, no tracking); what counts as
referenced is checked against the store's own files.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from nbfactory import write_notebook
from quality_pipeline import cli

from jupyter_mlops.artifacts.store import ArtifactStore
from jupyter_mlops.execute.run_lock import pipeline_lock

PARAMS = ("base = 10", ["parameters"])
LOAD = "%%mlstep load\nnumbers = list(range(base))"
TOTAL = "%%mlstep total --metrics scores\nscores = {'total': float(sum(numbers))}"


def run(folder: Path, base: int) -> dict[str, str]:
    done = cli("run", str(folder), "--engine", "inprocess", "--no-track", "--json",
               "-p", f"base={base}")  # fmt: skip
    assert done.returncode == 0, done.stderr
    return {name: step["status"] for name, step in json.loads(done.stdout)["steps"].items()}


def gc_json(folder: Path, *args: str) -> dict:
    done = cli("gc", str(folder), "--json", *args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def age_cache_entries(folder: Path, base: int) -> None:
    """Date the cache entries written so far ``base`` seconds after the epoch, so "most
    recent" does not depend on how fast the runs followed each other."""
    for entry in (folder / ".mlops" / "cache").glob("*/*.json"):
        if entry.stat().st_mtime > 10**6:
            os.utime(entry, (base, base))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """An extracted pipeline that ran with base=10, then base=20 (two results per step)."""
    notebook = write_notebook(tmp_path / "flow.ipynb", [PARAMS, LOAD, TOTAL])
    assert cli("extract", str(notebook)).returncode == 0
    folder = tmp_path / "pipelines" / "flow"
    assert set(run(folder, 10).values()) == {"ran"}
    age_cache_entries(folder, 1000)
    assert set(run(folder, 20).values()) == {"ran"}
    age_cache_entries(folder, 2000)
    return folder


def test_gc_removes_only_unreferenced_objects_and_the_cache_still_hits(folder: Path) -> None:
    store = ArtifactStore.for_pipeline(folder)
    referenced = set(store.hashes())
    orphan = store.put("leftover", list(range(1000)))  # a killed step's output: no entry
    (store.tmp_dir / "half-written").write_bytes(b"x" * 10)

    planned = gc_json(folder, "--dry-run")
    assert [item["hash"] for item in planned["removed"]] == [orphan.hash]
    assert planned["dry_run"] and planned["freed_bytes"] > 0
    assert set(store.hashes()) == referenced | {orphan.hash}  # a dry run removes nothing

    done = gc_json(folder)
    assert done["removed"] == planned["removed"] and not done["removed_cache_entries"]
    assert done["removed_temp_files"] == 1
    assert done["kept"]["objects"] == len(referenced)
    assert set(store.hashes()) == referenced
    assert not any(store.objects_dir.glob(f"*/{orphan.hash}*"))
    assert all(store.verify(digest) for digest in referenced)
    assert set(run(folder, 10).values()) == {"cached"}
    assert set(run(folder, 20).values()) == {"cached"}


def test_keep_runs_keeps_each_steps_latest_results(folder: Path) -> None:
    store = ArtifactStore.for_pipeline(folder)
    before = set(store.hashes())
    done = cli("gc", str(folder), "--keep-runs", "1")
    assert done.returncode == 0, done.stderr
    assert "removed cache entry load/" in done.stdout
    assert "Removed 2 objects and 2 cache entries" in done.stdout, done.stdout
    assert len(set(store.hashes())) == len(before) - 2
    assert set(run(folder, 20).values()) == {"cached"}  # the latest results stay
    assert set(run(folder, 10).values()) == {"ran"}  # the older ones were forgotten


def test_objects_a_run_still_owes_mlflow_are_kept(folder: Path) -> None:
    store = ArtifactStore.for_pipeline(folder)
    owed = store.put("model", {"weights": [1, 2, 3]})
    state = {
        "run": "20260101-000000-1", "pid": 1, "host": "h", "started": "s", "command": "c",
        "status": "ended",
        "owed": [{"step": "load", "cache_key": "k", "action": "register",
                  "outputs": {"model": owed.hash}}],
    }  # fmt: skip
    (store.root / "runs" / "20260101-000000-1.json").write_text(json.dumps(state))
    assert gc_json(folder)["removed"] == []
    assert store.verify(owed.hash)

    (store.root / "runs" / "20260101-000000-1.json").write_text("{not json")
    done = cli("gc", str(folder))
    assert done.returncode == 2
    assert "cannot read this run state" in done.stderr and "nothing was removed" in done.stderr
    assert "Traceback" not in done.stderr
    assert store.verify(owed.hash)


def test_gc_is_refused_while_a_run_holds_the_pipeline(folder: Path) -> None:
    store = ArtifactStore.for_pipeline(folder)
    orphan = store.put("leftover", [1, 2])
    with pipeline_lock(folder, command="jupyter mlops run (test)"):
        done = cli("gc", str(folder))
        assert done.returncode == 2
        assert (
            "another run of this pipeline is in progress" in done.stderr
            and "jupyter mlops run (test)" in done.stderr
        )
        assert store.verify(orphan.hash)
        assert gc_json(folder, "--dry-run")["removed"][0]["hash"] == orphan.hash
    assert gc_json(folder)["removed"][0]["hash"] == orphan.hash


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--keep-runs", "0"], "--keep-runs must be at least 1, not 0"),
        (["--keep-runs", "-3"], "--keep-runs must be at least 1, not -3"),
    ],
)
def test_bad_gc_arguments_are_one_line(folder: Path, args: list[str], needle: str) -> None:
    done = cli("gc", str(folder), *args)
    assert done.returncode == 2
    assert done.stderr.strip() == f"error: {needle}"


def test_gc_of_a_folder_that_is_not_a_pipeline_is_refused(tmp_path: Path) -> None:
    done = cli("gc", str(tmp_path))
    assert done.returncode == 2
    assert "no pipeline.yaml here" in done.stderr and "Traceback" not in done.stderr


def test_show_reports_the_store_size(folder: Path) -> None:
    store = ArtifactStore.for_pipeline(folder)
    objects = len(list(store.hashes()))
    size = sum(path.stat().st_size for path in store.objects_dir.glob("??/*"))
    shown = json.loads(cli("show", str(folder), "--json").stdout)
    assert shown["store"] == {"objects": objects, "bytes": size}
    notebook = json.loads(cli("show", str(folder.parent.parent / "flow.ipynb"), "--json").stdout)
    assert notebook["store"] == shown["store"]
    text = cli("show", str(folder)).stdout
    assert f"Artifact store: {objects} objects, " in text


def test_show_of_a_notebook_never_extracted_has_no_store(tmp_path: Path) -> None:
    notebook = write_notebook(tmp_path / "fresh.ipynb", [PARAMS, LOAD])
    shown = json.loads(cli("show", str(notebook), "--json").stdout)
    assert "store" not in shown
    assert "Artifact store" not in cli("show", str(notebook)).stdout
