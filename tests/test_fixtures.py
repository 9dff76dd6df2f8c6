"""Fixtures captured from a real run: sizes, aligned and stratified rows, manifest, refresh."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from quality_pipeline import cli, copy_pipeline, extracted_and_run

from jupyter_mlops.authoring.scan import scan_notebook
from jupyter_mlops.errors import FixtureError
from jupyter_mlops.extract.writer import write_package
from jupyter_mlops.quality.fixture_sampling import find_label, sample_positions
from jupyter_mlops.quality.fixtures import (
    MANIFEST,
    capture_fixtures,
    capture_if_missing,
    fixtures_dir,
    load_fixture,
    read_manifest,
)


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the quality notebook, extracted and run once (fixtures captured)."""
    root = tmp_path_factory.mktemp("ran")
    extracted_and_run(root)
    return root


@pytest.fixture
def pipeline(ran: Path, tmp_path: Path) -> Path:
    return copy_pipeline(ran, tmp_path / "copy")


def test_run_captures_fixtures_of_every_step_input(ran: Path) -> None:
    folder = ran / "pipelines" / "quality"
    manifest = read_manifest(folder)
    assert manifest is not None
    assert set(manifest["fixtures"]) == {
        "load.df",
        "split.X_train",
        "split.y_train",
        "split.X_test",
        "split.y_test",
        "arrays.Xa",
        "arrays.ya",
        "train.model",
    }
    assert manifest["not_captured"] == manifest["full_data"] == {}
    df = manifest["fixtures"]["load.df"]
    assert (df["rows"], df["of_rows"], df["type"]) == (200, 500, "pandas.DataFrame")
    assert df["sampling"] == "stratified by load.df['target']"
    assert manifest["fixtures"]["split.X_test"]["rows"] == 100  # under 200: kept whole
    assert "sampling" not in manifest["fixtures"]["split.X_test"]
    assert manifest["outputs"]["train"] == {
        "model": {"type": manifest["fixtures"]["train.model"]["type"], "nan_columns": []}
    }
    assert manifest["outputs"]["evaluate"]["metrics"]["type"] == "dict"
    assert manifest["outputs"]["arrays"]["Xa"] == {"type": "numpy.ndarray", "nan_columns": []}
    files = {p.name for p in fixtures_dir(folder).iterdir()}
    assert files == {MANIFEST} | {item["file"] for item in manifest["fixtures"].values()}


def test_rows_stay_aligned_across_frames_and_arrays(ran: Path) -> None:
    folder = ran / "pipelines" / "quality"
    X = load_fixture(folder, "split.X_train")
    y = load_fixture(folder, "split.y_train")
    assert len(X) == len(y) == 200
    assert X.index.equals(y.index)
    assert ((X["a"] > 0.8).astype(int) == y).all()
    Xa, ya = load_fixture(folder, "arrays.Xa"), load_fixture(folder, "arrays.ya")
    assert Xa.shape == (200, 2) and ya.shape == (200,)
    assert ((Xa[:, 0] > 0.8).astype(int) == ya).all()
    manifest = read_manifest(folder)
    assert manifest is not None
    assert (
        "same rows as arrays.Xa, arrays.ya, split.X_train"
        in (manifest["fixtures"]["split.y_train"]["sampling"])
    )


def test_stratified_sample_keeps_the_class_balance(ran: Path) -> None:
    folder = ran / "pipelines" / "quality"
    df = load_fixture(folder, "load.df")
    full = (np.random.default_rng(0).uniform(size=500) > 0.8).mean()
    assert abs(df["target"].mean() - full) < 0.01
    assert list(df.index) == sorted(df.index)  # rows keep their order


def test_sample_positions_keep_every_class_and_are_seeded() -> None:
    labels = np.array([0] * 990 + [1] * 8 + [2] * 2)
    chosen = sample_positions(1000, 100, labels)
    assert len(chosen) == 100 and len(set(chosen)) == 100
    counts = np.bincount(labels[chosen])
    assert counts[0] >= 95 and counts[1] >= 1 and counts[2] >= 1
    assert (chosen == sample_positions(1000, 100, labels)).all()
    continuous = np.linspace(0, 1, 1000)
    picked = continuous[sample_positions(1000, 100, continuous)]
    assert np.histogram(picked, bins=10, range=(0, 1))[0].tolist() == [10] * 10


def test_find_label_prefers_named_series_then_target_columns() -> None:
    frame = pd.DataFrame({"x": [1, 2], "label": [0, 1]})
    assert find_label({"s.frame": frame})[0] == "s.frame['label']"
    assert find_label({"s.frame": frame, "s.y_train": pd.Series([1, 0])})[0] == "s.y_train"
    assert find_label({"s.values": pd.Series([1, 0])}) is None


def test_large_model_is_left_out_and_named(pipeline: Path) -> None:
    captured = capture_fixtures(pipeline, max_bytes=10)
    reason = captured.manifest["not_captured"]["train.model"]
    assert "over the 0.0 MB limit" in reason and "step 'train'" in reason
    assert "train.model" not in captured.manifest["fixtures"]
    assert "train.model: not captured" in captured.describe()


def test_refresh_replaces_ours_and_keeps_the_users_files(pipeline: Path) -> None:
    folder = fixtures_dir(pipeline)
    (folder / "my_case.csv").write_text("a,b\n1,2\n")
    (folder / "split.X_test.parquet").write_bytes(b"edited")
    captured = capture_fixtures(pipeline, max_rows=50)
    assert (folder / "my_case.csv").read_text() == "a,b\n1,2\n"
    assert captured.manifest["fixtures"]["split.X_test"]["rows"] == 50
    assert len(load_fixture(pipeline, "split.X_test")) == 50
    assert not list(folder.parent.glob(".fixtures-*"))


def test_capture_if_missing_keeps_current_and_replaces_stale(pipeline: Path) -> None:
    manifest_file = fixtures_dir(pipeline) / MANIFEST
    before = manifest_file.read_text()
    assert capture_if_missing(pipeline, {}) is None
    data = json.loads(before)
    del data["fixtures"]["split.X_test"]  # as if a step gained an input since the capture
    manifest_file.write_text(json.dumps(data))
    from jupyter_mlops.pipeline.pipeline_file import read_pipeline_file
    from jupyter_mlops.quality.fixtures import latest_outputs

    captured = capture_if_missing(pipeline, latest_outputs(read_pipeline_file(pipeline)))
    assert captured is not None and "split.X_test" in captured.manifest["fixtures"]


def test_fixtures_command_prints_what_it_captured(pipeline: Path) -> None:
    done = cli("fixtures", str(pipeline), "--max-rows", "20")
    assert done.returncode == 0, done.stderr
    assert (
        f"Captured 8 fixtures into {pipeline}/tests/fixtures/ from the latest run:" in done.stdout
    )
    assert "split.X_train: pandas.DataFrame, 20 of 400 rows, stratified by split.y_train" in (
        done.stdout
    )


def test_fixtures_before_any_run_names_the_step(tmp_path: Path) -> None:
    from quality_pipeline import write_quality_notebook

    notebook = write_quality_notebook(tmp_path)
    write_package(scan_notebook(notebook), tmp_path / "p")
    with pytest.raises(FixtureError, match="step 'load': has no cached result"):
        capture_fixtures(tmp_path / "p")
    done = cli("fixtures", str(tmp_path / "p"))
    assert done.returncode == 2
    assert done.stderr.startswith("error: step 'load': has no cached result to capture fixtures")
    assert not fixtures_dir(tmp_path / "p").exists()


def test_bad_manifest_and_bad_arguments_are_refused(pipeline: Path) -> None:
    (fixtures_dir(pipeline) / MANIFEST).write_text("[1, 2]")
    with pytest.raises(FixtureError, match="not a fixture manifest"):
        read_manifest(pipeline)
    with pytest.raises(FixtureError, match="max_rows must be at least 1"):
        capture_fixtures(pipeline, max_rows=0)
    with pytest.raises(FixtureError, match="no fixture 'nope.x'"):
        load_fixture(pipeline, "nope.x", {"fixtures": {}})


def test_a_step_failing_on_its_sampled_inputs_gets_them_whole(pipeline: Path) -> None:
    notebook = pipeline.parent.parent / "quality.ipynb"
    nb = json.loads(notebook.read_text())
    for cell in nb["cells"]:
        source = "".join(cell["source"])
        cell["source"] = source.replace("cut = int(", "assert len(df) == 500\ncut = int(")
    notebook.write_text(json.dumps(nb))
    write_package(scan_notebook(notebook), pipeline)
    captured = capture_fixtures(pipeline)  # from the cached run: split's code changed since
    df = captured.manifest["fixtures"]["load.df"]
    assert (df["rows"], df["of_rows"]) == (500, 500)
    assert df["sampling"] == "kept whole: step 'split' fails on a sample (AssertionError: )"
    assert captured.manifest["fixtures"]["split.X_train"]["rows"] == 200  # train copes
    assert "load.df: pandas.DataFrame, 500 of 500 rows, kept whole: step 'split'" in (
        captured.describe()
    )
    assert len(load_fixture(pipeline, "load.df")) == 500
