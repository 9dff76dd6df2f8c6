"""Data schemas: inference with tolerance, pandera YAML both ways, writing after a run and
with ``jupyter mlops schema``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_validation import cli, cli_run, good_frame, make_pipeline

from jupyter_mlops.errors import DataSchemaError
from jupyter_mlops.quality.schemas import (
    infer_schema,
    read_schema,
    read_stats,
    schema_file,
    stats_file,
    widened_range,
    write_schema,
)


def checks_of(schema, column: str) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    return {c.name: c.statistics for c in schema.columns[column].checks}


@pytest.mark.parametrize(
    ("low", "high", "integer", "expected"),
    [
        (18, 90, True, (0, 126)),  # span 72: margin 36; non-negative data keeps lo = 0
        (0, 9, True, (0, 14)),  # integer columns: bounds rounded outward to integers
        (-5, 5, True, (-10, 10)),
        (4.3, 7.9, False, (2.0, 10.0)),  # margin 1.8: bounds on the grid of 1
        (0.25, 0.75, False, (0.0, 1.0)),
        (-1.234, -1.234, False, (-1.9, -0.6)),  # constant: 50% of |value|
        (0.0, 0.0, False, (0.0, 0.5)),  # constant zero: 50% of 1
        (1e6, 3e6, False, (0.0, 4e6)),
        (-3.1, 2.7, False, (-6.0, 6.0)),  # margin 2.9: bounds on the grid of 1
    ],
)
def test_widened_range(low: float, high: float, integer: bool, expected: tuple) -> None:
    assert widened_range(low, high, integer) == pytest.approx(expected)
    lo, hi = widened_range(low, high, integer)
    assert lo <= low and hi >= high
    assert widened_range(low, high, integer, tolerance=0.0)[1] >= high


def test_inferred_schema_has_dtypes_nullability_categories_and_loose_ranges() -> None:
    frame = good_frame()
    frame["size"] = pd.Categorical(["S", "M", "L"] * 100, categories=["S", "M", "L", "XL"])
    frame["name"] = [f"user{i}" for i in range(len(frame))]  # many distinct: free text
    frame["when"] = pd.date_range("2024-01-01", periods=len(frame), freq="h")
    frame["flag"] = frame["count"] > 4
    frame.loc[5, "y"] = np.nan
    schema = infer_schema(frame, "load.df")

    assert schema.strict is True and schema.name == "load.df"
    dtypes = {name: str(column.dtype) for name, column in schema.columns.items()}
    assert dtypes["id"] == "int64" and dtypes["x"] == "float64" and dtypes["flag"] == "bool"
    assert dtypes["size"] == "category" and dtypes["when"].startswith("datetime64")
    assert {n for n, c in schema.columns.items() if c.nullable} == {"y"}

    assert checks_of(schema, "color") == {"isin": {"allowed_values": ["blue", "green", "red"]}}
    assert checks_of(schema, "size") == {"isin": {"allowed_values": ["S", "M", "L", "XL"]}}
    for no_checks in ("name", "when", "flag"):
        assert checks_of(schema, no_checks) == {}

    x_range = checks_of(schema, "x")["in_range"]
    assert x_range["min_value"] == 0.0  # non-negative column stays >= 0
    assert frame["x"].max() < x_range["max_value"] == pytest.approx(150.0)
    id_range = checks_of(schema, "id")["in_range"]
    assert (id_range["min_value"], id_range["max_value"]) == (0, 449)  # 299 + 149.5, ceiled
    y_range = checks_of(schema, "y")["in_range"]
    assert y_range["min_value"] < frame["y"].min() and y_range["max_value"] > frame["y"].max()


def test_series_is_checked_as_one_named_column() -> None:
    schema = infer_schema(pd.Series([0, 1, 1, 0, 1], name="target"))
    assert list(schema.columns) == ["target"]
    unnamed = infer_schema(pd.Series(["a", "b", "a", "b"]))
    assert list(unnamed.columns) == ["value"]
    assert checks_of(unnamed, "value") == {"isin": {"allowed_values": ["a", "b"]}}


def test_schema_file_is_pandera_yaml_that_reads_back_identically(tmp_path: Path) -> None:
    from pandera.io.pandas_io import from_yaml

    frame = good_frame()
    path = write_schema(tmp_path, "load", "df", frame)
    assert path == tmp_path / "schemas" / "load.df.yaml"
    text = path.read_text()
    assert text.startswith("# Data schema of output 'df' of step 'load' (pandera YAML)")
    assert "widened by 50% of their span" in text
    assert read_schema(path).to_yaml() == infer_schema(frame, "load.df").to_yaml()
    assert from_yaml(text).validate(frame).equals(frame)  # pandera's own reader
    assert not list(path.parent.glob(".*.tmp"))

    stats = read_stats(stats_file(tmp_path, "load", "df"))
    assert stats is not None and stats["rows"] == 300
    assert set(stats["columns"]) == {"id", "x", "count", "color", "y"}
    assert stats["columns"]["color"]["kind"] == "categorical"
    assert sum(stats["columns"]["color"]["frequencies"].values()) == pytest.approx(1.0)
    x = stats["columns"]["x"]
    assert x["kind"] == "numeric" and len(x["bin_edges"]) == 9
    assert sum(x["bin_fractions"]) == pytest.approx(1.0)
    assert x["quantiles"][0] == frame["x"].min() and x["cdf"][-1] == 1.0


def test_unreadable_schema_and_stats_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "load.df.yaml"
    bad.write_text("columns: [unclosed\n")
    with pytest.raises(DataSchemaError) as error:
        read_schema(bad)
    assert str(error.value).startswith(f"{bad}: invalid pandera schema: ")
    stats = tmp_path / "load.df.stats.json"
    stats.write_text("[1, 2]")
    with pytest.raises(DataSchemaError, match="drift statistics lack a 'columns' mapping"):
        read_stats(stats)
    assert read_stats(tmp_path / "absent.json") is None


def test_a_successful_run_writes_missing_schemas_only(tmp_path: Path) -> None:
    folder = make_pipeline(tmp_path)
    first = cli_run(folder)
    assert first.returncode == 0, first.stderr
    schema = schema_file(folder, "load", "df")
    assert schema.is_file() and stats_file(folder, "load", "df").is_file()
    assert sorted(p.name for p in (folder / "schemas").iterdir()) == [
        "load.df.stats.json",
        "load.df.yaml",
    ]  # train's metrics dict gets none
    assert f"wrote data schema {schema}" in first.stderr  # --json: human lines on stderr

    schema.write_text(schema.read_text() + "# reviewed\n")
    second = cli_run(folder, "--force")
    assert second.returncode == 0, second.stderr
    assert schema.read_text().endswith("# reviewed\n")  # existing schemas are never rewritten
    assert "wrote data schema" not in second.stderr


def test_schema_command_refuses_before_a_run_then_writes_and_refreshes(tmp_path: Path) -> None:
    folder = make_pipeline(tmp_path)
    refused = cli("schema", str(folder))
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        f"error: pipeline {folder} has not run yet: no artifacts to infer schemas from; "
        f"run it first (jupyter mlops run {folder})"
    )
    assert not (folder / "schemas").exists()

    assert cli_run(folder).returncode == 0
    schema = schema_file(folder, "load", "df")
    schema.unlink()
    written = cli("schema", str(folder))
    assert written.returncode == 0, written.stderr
    assert written.stdout == f"wrote {schema}\n"
    original = schema.read_text()

    schema.write_text(original.replace("- red\n", "- red\n    - purple\n"))
    kept = cli("schema", str(folder))
    assert kept.stdout == f"kept {schema} (exists; --refresh re-infers it)\n"
    assert "purple" in schema.read_text()
    refreshed = cli("schema", str(folder), "--refresh")
    assert refreshed.stdout == f"wrote {schema}\n"
    assert schema.read_text() == original


def test_schema_command_names_a_missing_pipeline(tmp_path: Path) -> None:
    result = cli("schema", str(tmp_path / "nowhere"))
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {tmp_path / 'nowhere' / 'pipeline.yaml'}: ")


def test_stats_json_is_plain_json(tmp_path: Path) -> None:
    write_schema(tmp_path, "s", "y", pd.Series([1.0, 2.0, np.nan, 4.0], name="y"))
    data = json.loads(stats_file(tmp_path, "s", "y").read_text())
    assert data["columns"]["y"]["missing"] == 0.25
