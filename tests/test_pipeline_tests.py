"""The generated data-driven tests (`jupyter mlops test`): skip without fixtures, pass on a
good pipeline, and fail — naming step, output and problem — when a step goes wrong."""

from __future__ import annotations

import json
import math
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from quality_pipeline import CELLS, TRAIN, cli, copy_pipeline, extracted_and_run
from sklearn.datasets import load_breast_cancer

from jupyter_mlops.authoring.scan import scan_notebook
from jupyter_mlops.errors import StepDeclarationError
from jupyter_mlops.extract.codegen import generate_files
from jupyter_mlops.extract.writer import write_package
from jupyter_mlops.pipeline.model import Step
from jupyter_mlops.quality.fixtures import capture_fixtures, fixtures_dir, read_manifest
from jupyter_mlops.quality.non_finite import nan_locations
from jupyter_mlops.runtime.model_data import model_data
from jupyter_mlops.runtime.testing import (
    NO_FIXTURES,
    StepOnFixtures,
    check_beats_dummy,
    non_finite,
)

NOTEBOOKS = Path(__file__).parent / "notebooks"


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
    assert non_finite(frame, "df", frozenset({"['y']"})) == ["df['x'] has 1 inf value(s)"]
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


def test_nan_locations_are_recorded_and_checked_the_same_way_for_any_value() -> None:
    frame = pd.DataFrame({"x": [1.0, np.nan], "s": ["a", 1]})  # mixed column: cloudpickled
    value = {"frame": frame, "scores": [0.5, math.nan], "array": np.array([[np.nan, 1.0]])}
    recorded = frozenset(nan_locations(value))
    assert recorded == {"['frame']['x']", "['scores'][1]", "['array']['0']"}
    assert non_finite(value, "out", recorded) == []
    assert non_finite(value, "out") == [
        "out['frame']['x'] has 1 NaN value(s), the captured run had none",
        "out['scores'][1] is nan",
        "out['array']['0'] has 1 NaN value(s), the captured run had none",
    ]


def _model_step(model: object, inputs: dict, kept: dict | None = None) -> StepOnFixtures:
    step = Step("train", 1, "", inputs=dict.fromkeys(inputs, "split"), model="model")
    return StepOnFixtures(Path("."), step, inputs, {"model": model}, {}, kept or {})


def test_a_model_worse_than_the_dummy_fails_on_the_data_it_was_trained_on() -> None:
    from sklearn.linear_model import LogisticRegression

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    flipped = 1 - y  # trained on inverted labels: worse than predicting the majority class
    worse = LogisticRegression(max_iter=5000).fit(X.iloc[:, :3], flipped)
    with pytest.raises(AssertionError) as failed:  # X holds the model's 3 columns and more
        check_beats_dummy(_model_step(worse, {"X": X, "y": y}))
    message = str(failed.value)
    assert message.startswith("step 'train': model 'model' scores 0.")
    assert "accuracy on its fixtures' training data (X, y), no better than Dummy" in message
    good = LogisticRegression(max_iter=5000).fit(X.iloc[:, :3], y)
    check_beats_dummy(_model_step(good, {"X": X, "y": y}))


def test_the_dummy_check_prefers_held_out_data_and_skips_when_no_data_fits() -> None:
    from sklearn.linear_model import LinearRegression

    X, y = load_breast_cancer(return_X_y=True)
    model = LinearRegression().fit(X[:400, :4], y[:400])
    inputs = {"X_train": X[:400], "y_train": y[:400], "X_test": X[400:], "y_test": y[400:]}
    kept = {"X_train_4": X[:400, :4], "X_test_4": X[400:, :4]}
    data = model_data(model, inputs | kept)
    assert data is not None and (data.description, data.held_out) == ("(X_test_4, y_test)", True)
    check_beats_dummy(_model_step(model, inputs, kept))
    with pytest.raises(pytest.skip.Exception, match="holds the 4 feature"):
        check_beats_dummy(_model_step(model, inputs))


@pytest.fixture(scope="module")
def notebook_runs(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """Runs tests/notebooks/<stem>.ipynb once (in-process, untracked); its pipeline folder.
    (tests/test_notebook_patterns.py puts every pattern notebook through the generated tests.)"""
    folders: dict[str, Path] = {}

    def ran(stem: str) -> Path:
        if stem not in folders:
            root = tmp_path_factory.mktemp(stem)
            notebook = shutil.copy(NOTEBOOKS / f"{stem}.ipynb", root)
            done = cli("run", str(notebook), "--engine", "inprocess", "--no-track")
            assert done.returncode == 0, done.stdout + done.stderr
            folders[stem] = root / "pipelines" / stem
        return folders[stem]

    return ran


def test_a_positional_split_keeps_its_input_whole_or_skips_with_the_reason(
    notebook_runs: Callable[[str], Path], tmp_path: Path
) -> None:
    ran = notebook_runs("tests_positional_split")
    item = (read_manifest(ran) or {})["fixtures"]["load.data"]
    assert (item["rows"], item["of_rows"]) == (569, 569)
    assert item["sampling"] == (
        "kept whole: step 'split' fails on a sample "
        "(output 'test' (the run had 169 rows) came out empty)"
    )
    folder = Path(shutil.copytree(ran.parent.parent, tmp_path / "copy")) / ran.relative_to(
        ran.parent.parent
    )
    captured = capture_fixtures(folder, max_bytes=10)
    reason = captured.manifest["full_data"]["split"]
    assert reason.startswith("step 'split' fails on sampled fixtures (output 'test' (the run")
    assert reason.endswith("over the 0.0 MB limit: its tests need the full data")
    code, out = mlops_test(folder, "-k", "split or whole_pipeline", "-rs")
    assert code == 0, out
    skipped = [line for line in out.splitlines() if line.startswith("SKIPPED")]
    assert "2 passed, 5 skipped" in out, out
    assert skipped and all(line.endswith(reason) for line in skipped), out
