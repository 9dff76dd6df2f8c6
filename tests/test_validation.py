"""Run-time data validation: bad data stops the step that produced it, before training.

The pipeline under test is a small notebook whose ``load`` step reads a CSV named by the
``data_path`` parameter, so a run with ``-p data_path=...`` feeds it other data.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from nbfactory import write_notebook

from jupyter_mlops.authoring.scan import scan_notebook
from jupyter_mlops.extract.writer import write_package
from jupyter_mlops.quality.schemas import infer_schema
from jupyter_mlops.quality.validation import MAX_EXAMPLES, validate_frame

SETUP = "import pandas as pd\n"
LOAD = "%%mlstep load\ndf = pd.read_csv(data_path)"
TRAIN = (
    "%%mlstep train --metrics metrics\n"
    "metrics = {'mean_x': float(df['x'].mean()), 'rows': float(len(df))}"
)
ROWS = 300


def good_frame(rows: int = ROWS, seed: int = 0) -> pd.DataFrame:
    """The training data: ids, a uniform float, a small count, a colour, a target."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "id": np.arange(rows),
            "x": rng.uniform(0.0, 100.0, rows).round(3),
            "count": rng.integers(0, 10, rows),
            "color": rng.choice(["red", "green", "blue"], rows),
            "y": rng.normal(size=rows).round(4),
        }
    )


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index=False)
    return path


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jupyter_mlops.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def cli_run(folder: Path, *args: str, track: bool = False) -> subprocess.CompletedProcess[str]:
    tracking = () if track else ("--no-track",)
    return cli("run", str(folder), "--engine", "inprocess", "--json", *tracking, *args)


def statuses(result: subprocess.CompletedProcess[str]) -> dict[str, str]:
    return {name: s["status"] for name, s in json.loads(result.stdout)["steps"].items()}


def make_pipeline(root: Path) -> Path:
    """Extract the load → train notebook under ``root``; data_path defaults to good data."""
    good = write_csv(good_frame(), root / "good.csv")
    params = (f"data_path = {str(good)!r}", ["parameters"])
    notebook = write_notebook(root / "flow.ipynb", [SETUP, params, LOAD, TRAIN])
    folder = root / "pipelines" / "flow"
    write_package(scan_notebook(notebook), folder)
    return folder


@pytest.fixture(scope="module")
def ran_pipeline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The pipeline after one successful run on good data (so its schemas exist)."""
    folder = make_pipeline(tmp_path_factory.mktemp("datapipe"))
    result = cli_run(folder)
    assert result.returncode == 0, result.stderr
    return folder


@pytest.fixture
def pipeline(ran_pipeline: Path, tmp_path: Path) -> Path:
    """A private copy of the ran pipeline (cache and schemas included)."""
    return Path(shutil.copytree(ran_pipeline, tmp_path / "flow"))


def run_bad(
    pipeline: Path, frame: pd.DataFrame, *args: str, track: bool = False
) -> subprocess.CompletedProcess[str]:
    bad = write_csv(frame, pipeline.parent / "bad.csv")
    return cli_run(pipeline, "-p", f"data_path={bad}", *args, track=track)


def assert_stopped_before_training(result: subprocess.CompletedProcess[str]) -> dict:
    assert result.returncode == 1, result.stderr
    assert statuses(result) == {"load": "failed", "train": "not_run"}
    summary = json.loads(result.stdout)
    assert summary["error"].startswith(
        "step 'load' (notebook cell 3) failed: load.df does not match its schema "
        "schemas/load.df.yaml: "
    )
    return summary


def test_renamed_column_stops_the_pipeline_before_training(pipeline: Path) -> None:
    result = run_bad(pipeline, good_frame().rename(columns={"x": "x_value"}))
    summary = assert_stopped_before_training(result)
    assert summary["error"].endswith("2 failing checks in columns x, x_value (300 rows)")
    report = summary["validation"]["load.df"]
    assert report["artifact"] == "load.df" and report["valid"] is False
    assert [(f["column"], f["check"], f["detail"]) for f in report["failures"]] == [
        ("x_value", "column_in_schema", "not in the schema"),
        ("x", "column_in_dataframe", "missing from the data"),
    ]
    assert "  - column 'x': missing from the data\n" in result.stderr
    assert "  - column 'x_value': not in the schema\n" in result.stderr


def test_new_category_stops_the_pipeline_before_training(pipeline: Path) -> None:
    frame = good_frame()
    frame.loc[[4, 9, 11], "color"] = ["purple", "purple", "teal"]
    result = run_bad(pipeline, frame)
    summary = assert_stopped_before_training(result)
    (failure,) = summary["validation"]["load.df"]["failures"]
    assert failure == {
        "column": "color",
        "check": "isin(['blue', 'green', 'red'])",
        "rows": 3,
        "examples": ["purple", "teal"],
        "detail": "",
    }
    assert (
        "  - column 'color': isin(['blue', 'green', 'red']) fails for 3 of 300 rows, "
        "e.g. 'purple', 'teal'\n" in result.stderr
    )


def test_float_in_an_int_column_stops_the_pipeline_before_training(pipeline: Path) -> None:
    frame = good_frame().astype({"count": "float64"})
    frame.loc[7, "count"] = 2.5
    result = run_bad(pipeline, frame)
    summary = assert_stopped_before_training(result)
    (failure,) = summary["validation"]["load.df"]["failures"]
    assert failure["column"] == "count" and failure["check"] == "dtype('int64')"
    assert failure["rows"] == 1 and failure["examples"] == [2.5]
    assert failure["detail"] == "expected int64, got float64; 1 non-integer or missing value"
    assert (
        "  - column 'count': dtype('int64'): expected int64, got float64; "
        "1 non-integer or missing value, e.g. 2.5\n" in result.stderr
    )


def test_values_out_of_range_and_nulls_are_all_reported(pipeline: Path) -> None:
    frame = good_frame()
    frame.loc[[1, 2], "y"] = [50.0, -60.0]  # y is about N(0, 1): its range is about ±3.5
    frame.loc[3, "color"] = None
    result = run_bad(pipeline, frame)
    summary = assert_stopped_before_training(result)
    failures = {f["column"]: f for f in summary["validation"]["load.df"]["failures"]}
    assert failures["y"]["rows"] == 2 and failures["y"]["examples"] == [50.0, -60.0]
    assert failures["y"]["check"].startswith("in_range(")
    assert failures["color"]["check"] == "not_nullable"
    assert failures["color"]["detail"] == "1 missing values where none are allowed"


def test_papermill_engine_validates_the_same_way(pipeline: Path, kernel_name: str) -> None:
    bad = write_csv(good_frame().rename(columns={"x": "x_value"}), pipeline.parent / "bad.csv")
    result = cli("run", str(pipeline), "--no-track", "--json", "-p", f"data_path={bad}")
    summary = assert_stopped_before_training(result)
    assert summary["error"].endswith("2 failing checks in columns x, x_value (300 rows)")


def test_a_fixed_run_after_a_failure_trains_again(pipeline: Path) -> None:
    bad = good_frame().rename(columns={"x": "x_value"})
    assert run_bad(pipeline, bad).returncode == 1
    result = cli_run(pipeline)  # back to the good data: everything cached
    assert result.returncode == 0, result.stderr
    assert statuses(result) == {"load": "cached", "train": "cached"}


def test_edited_schema_is_what_the_run_checks(pipeline: Path) -> None:
    schema = pipeline / "schemas" / "load.df.yaml"
    schema.write_text(schema.read_text().replace("    - red\n", "    - red\n    - purple\n"))
    frame = good_frame()
    frame.loc[4, "color"] = "purple"
    result = run_bad(pipeline, frame)
    assert result.returncode == 0, result.stderr
    assert statuses(result) == {"load": "ran", "train": "ran"}


def test_invalid_schema_file_fails_the_step_naming_the_file(pipeline: Path) -> None:
    (pipeline / "schemas" / "load.df.yaml").write_text("columns: [unclosed\n")
    frame = good_frame()
    frame.loc[0, "y"] = 0.5  # new data: load runs
    result = run_bad(pipeline, frame)
    assert result.returncode == 1
    error = json.loads(result.stdout)["error"]
    assert error.startswith("step 'load' (notebook cell 3) failed: ")
    assert "schemas/load.df.yaml: invalid pandera schema: " in error


def test_schema_for_an_output_that_is_not_a_frame_fails_that_step(pipeline: Path) -> None:
    shutil.copy(pipeline / "schemas" / "load.df.yaml", pipeline / "schemas" / "train.metrics.yaml")
    frame = good_frame()
    frame.loc[0, "y"] = 0.5  # new data: both steps run
    result = run_bad(pipeline, frame)
    assert result.returncode == 1
    assert statuses(result) == {"load": "ran", "train": "failed"}
    assert json.loads(result.stdout)["error"] == (
        "step 'train' (notebook cell 4) failed: train.metrics is a dict, but "
        "schemas/train.metrics.yaml expects a DataFrame or Series; fix the step or delete "
        "the schema"
    )


def test_failed_validation_report_is_logged_to_mlflow(pipeline: Path, tracking_uri: str) -> None:
    import mlflow

    frame = good_frame()
    frame.loc[4, "color"] = "purple"
    result = run_bad(pipeline, frame, "--tracking-uri", tracking_uri, track=True)
    assert result.returncode == 1
    client = mlflow.MlflowClient(tracking_uri=tracking_uri)
    experiment = client.get_experiment_by_name("flow")
    (run,) = client.search_runs(
        [experiment.experiment_id], filter_string="tags.`mlops.step` = 'load'"
    )
    assert run.info.status == "FAILED"
    assert run.data.tags["mlops.error"].startswith("load.df does not match its schema")
    names = {a.path for a in client.list_artifacts(run.info.run_id, "validation")}
    assert names == {"validation/load.df.txt", "validation/load.df.json"}
    local = client.download_artifacts(run.info.run_id, "validation/load.df.txt")
    text = Path(local).read_text()
    assert text.splitlines()[0] == run.data.tags["mlops.error"]
    assert "column 'color': isin(['blue', 'green', 'red']) fails for 1 of 300 rows" in text


# --- the report itself (no pipeline) --------------------------------------------------------


def test_report_counts_every_failure_and_keeps_a_few_distinct_examples() -> None:
    frame = good_frame(rows=2000)
    schema = infer_schema(frame, "load.df")
    bad = frame.copy()
    bad["color"] = [f"c{i % 40}" for i in range(len(bad))]  # 2000 failures, 40 distinct
    bad["x"] = bad["x"] + 500.0
    report = validate_frame(bad, schema, "load.df", "schemas/load.df.yaml")
    by_column = {f.column: f for f in report.failures}
    assert by_column["color"].rows == 2000 and by_column["x"].rows == 2000
    assert by_column["color"].examples == [f"c{i}" for i in range(MAX_EXAMPLES)]
    assert report.first_line() == (
        "load.df does not match its schema schemas/load.df.yaml: "
        "2 failing checks in columns color, x (2000 rows)"
    )
    assert json.loads(json.dumps(report.to_json())) == report.to_json()


def test_valid_frame_gives_an_ok_report() -> None:
    frame = good_frame()
    report = validate_frame(frame, infer_schema(frame), "load.df", "schemas/load.df.yaml")
    assert report.ok and report.failures == []
    assert report.to_text() == "load.df matches its schema schemas/load.df.yaml (300 rows)"
