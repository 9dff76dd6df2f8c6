"""The generated data-driven tests (`jupyter mlops test`): skip without fixtures, pass on a
good pipeline, and fail — naming step, output and problem — when a step goes wrong."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from quality_pipeline import CELLS, TRAIN, cli, copy_pipeline, extracted_and_run

from jupyter_mlops.authoring.scan import scan_notebook
from jupyter_mlops.errors import StepDeclarationError
from jupyter_mlops.extract.codegen import generate_files
from jupyter_mlops.extract.writer import write_package
from jupyter_mlops.quality.fixtures import capture_fixtures, fixtures_dir
from jupyter_mlops.runtime.testing import NO_FIXTURES, non_finite


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ran")
    extracted_and_run(root)
    return root


@pytest.fixture
def pipeline(ran: Path, tmp_path: Path) -> Path:
    return copy_pipeline(ran, tmp_path / "copy")


def replace_cell(pipeline: Path, old: str, new: str) -> None:
    """Edit the source notebook and re-extract (fixtures and schemas stay)."""
    notebook = pipeline.parent.parent / "quality.ipynb"
    nb = json.loads(notebook.read_text())
    for cell in nb["cells"]:
        cell["source"] = "".join(cell["source"]).replace(old, new)
    notebook.write_text(json.dumps(nb))
    write_package(scan_notebook(notebook), pipeline)


def mlops_test(pipeline: Path, *pytest_args: str) -> tuple[int, str]:
    done = cli("test", str(pipeline), "-q", "-rs", "-p", "no:cacheprovider", *pytest_args)
    return done.returncode, done.stdout + done.stderr


def test_the_whole_suite_passes_on_captured_fixtures(pipeline: Path) -> None:
    started = time.perf_counter()
    code, out = mlops_test(pipeline)
    seconds = time.perf_counter() - started
    assert code == 0, out
    assert "25 passed, 3 skipped" in out, out
    assert "SKIPPED [1] " in out and "step 'train' has no DataFrame or Series outputs" in out
    print(f"\ngenerated suite of the quality pipeline: {seconds:.1f} s")  # measured, not asserted


def test_without_fixtures_the_data_tests_skip_with_the_reason(pipeline: Path) -> None:
    for path in sorted(fixtures_dir(pipeline).iterdir()):
        path.unlink()
    fixtures_dir(pipeline).rmdir()
    code, out = mlops_test(pipeline)
    assert code == 0, out
    assert "note: no fixtures captured yet, so the data-driven tests skip" in out
    assert "10 passed, 18 skipped" in out
    skipped = [line for line in out.splitlines() if line.startswith("SKIPPED")]
    assert skipped and all(line.endswith(NO_FIXTURES) for line in skipped)


def test_nan_in_an_output_fails_naming_step_output_and_column(pipeline: Path) -> None:
    replace_cell(
        pipeline, "Xa = X_train.to_numpy()", "Xa = X_train.to_numpy().copy()\nXa[0, 1] = np.nan"
    )
    code, out = mlops_test(pipeline, "-k", "arrays and finite")
    assert code == 1, out
    assert (
        "AssertionError: step 'arrays': Xa['1'] has 1 NaN value(s), the captured run had none"
        in out
    )


def test_a_changed_output_type_fails(pipeline: Path) -> None:
    replace_cell(pipeline, "Xa = X_train.to_numpy()", "Xa = X_train.to_numpy().tolist()")
    code, out = mlops_test(pipeline, "-k", "arrays and types")
    assert code == 1, out
    assert "step 'arrays': 'Xa' is a list, the captured run recorded numpy.ndarray" in out


def test_an_output_breaking_its_schema_fails_with_the_report(pipeline: Path) -> None:
    assert (pipeline / "schemas" / "split.X_train.yaml").is_file()  # written by the run
    # Value ranges are left to run-time validation (fixtures are a resample); structure,
    # dtypes, nullability and categories are checked on the fixtures.
    renamed = "X_train, X_test = X.iloc[:cut].rename(columns={'a': 'renamed'})"
    replace_cell(pipeline, "X_train, X_test = X.iloc[:cut]", renamed)
    code, out = mlops_test(pipeline, "-k", "split and schemas")
    assert code == 1, out
    assert "split.X_train does not match its schema schemas/split.X_train.yaml" in out
    assert "column 'a': missing from the data" in out, out
    assert "column 'renamed': not in the schema" in out, out


def test_a_model_that_does_not_learn_fails_the_dummy_baseline(pipeline: Path) -> None:
    worse = (
        "%%mlstep train --model model\n"
        "from sklearn.dummy import DummyClassifier\n"
        "model = DummyClassifier(strategy='uniform', random_state=C > 0).fit(Xa, ya)\n"
    )
    replace_cell(pipeline, TRAIN, worse)
    code, out = mlops_test(pipeline, "-k", "beats_dummy")
    assert code == 1, out
    assert "step 'train': model 'model' scores 0." in out
    assert "no better than DummyClassifier (0.7" in out or "than DummyClassifier (0.8" in out
    assert "training did not converge" in out


def test_an_input_too_large_to_capture_is_rebuilt_from_its_producer(pipeline: Path) -> None:
    captured = capture_fixtures(pipeline, max_bytes=10)
    assert "train.model" in captured.manifest["not_captured"]
    code, out = mlops_test(pipeline, "-k", "evaluate")
    assert code == 0, out
    assert "4 passed, 1 skipped" in out


def test_whole_pipeline_test_catches_a_step_failing_on_the_fixtures(pipeline: Path) -> None:
    replace_cell(
        pipeline, "cut = int(len(df) * 0.8)", "cut = int(len(df) * 0.8)\nassert len(df) > 300"
    )
    code, out = mlops_test(pipeline, "-k", "whole_pipeline and inprocess")
    assert code == 1, out
    assert "step 'split' (notebook cell 4) failed: AssertionError" in out


def test_model_test_only_for_model_steps_and_name_clash_refused(tmp_path: Path) -> None:
    from quality_pipeline import write_quality_notebook

    pipeline = scan_notebook(write_quality_notebook(tmp_path))
    files = generate_files(pipeline, "quality.ipynb")
    assert "def test_train_model_beats_dummy_baseline(" in files["tests/test_train.py"]
    assert "beats_dummy" not in files["tests/test_evaluate.py"]
    assert "def test_pipeline_runs_on_fixtures(" in files["tests/test_whole_pipeline.py"]
    clash = write_quality_notebook(tmp_path / "clash", [*CELLS, "%%mlstep whole_pipeline\nz = 1"])
    with pytest.raises(StepDeclarationError, match="would clash with the generated tests/test_"):
        generate_files(scan_notebook(clash), "quality.ipynb")


def test_non_finite_finds_nan_and_inf_in_numbers_frames_arrays_and_dicts() -> None:
    frame = pd.DataFrame({"x": [1.0, math.inf], "y": [np.nan, 1.0], "s": ["a", None]})
    assert non_finite(frame, "df") == ["df['x'] has 1 inf value(s)"] + [
        "df['y'] has 1 NaN value(s), the captured run had none"
    ]
    assert non_finite(frame, "df", frozenset({"y"})) == ["df['x'] has 1 inf value(s)"]
    assert non_finite({"rmse": math.nan, "n": 3, "ok": True}, "m") == ["m['rmse'] is nan"]
    assert non_finite(np.array([[1.0, np.inf]]), "a") == ["a['1'] has 1 inf value(s)"]
    assert non_finite(np.array([np.nan, 1.0]), "v") == [
        "v has 1 NaN value(s), the captured run had none"
    ]
    assert non_finite(np.array([np.nan, 1.0]), "v", frozenset({""})) == []
    assert non_finite(pd.Series([1, 2]), "s") == [] and non_finite(object(), "o") == []
    assert non_finite(pd.Series([np.nan]), "s") == [
        "s has 1 NaN value(s), the captured run had none"
    ]


def test_test_command_refuses_a_folder_without_a_pipeline(tmp_path: Path) -> None:
    done = cli("test", str(tmp_path))
    assert done.returncode == 2
    assert done.stderr == (
        f"error: {tmp_path}/pipeline.yaml: no pipeline.yaml here; extract the notebook first "
        "(jupyter mlops extract NOTEBOOK)\n"
    )
