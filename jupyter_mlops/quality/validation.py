"""Validate step outputs against their schemas (all failures collected) and measure drift.

:func:`validate_frame` runs pandera lazily and turns its errors into a
:class:`ValidationReport` naming the artifact, each failing column and check, failure counts
and example values (text and JSON). :func:`check_outputs` is what the runner calls after a
step produced its outputs: for each output with a schema file, validate it, then compare it
with its drift reference statistics. pandas/pandera are imported only when a schema exists.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyter_mlops.artifacts.store import ArtifactRef, ArtifactStore
from jupyter_mlops.errors import MlopsError
from jupyter_mlops.quality.drift import DriftReport, DriftSettings

MAX_EXAMPLES = 5
_EXAMPLE_SCAN = 1000  # examples are the first distinct values among this many failures


@dataclass
class Failure:
    """One failing check of one column: how many rows fail, a few failing values."""

    column: str | None
    check: str
    rows: int | None = None  # None: a column-level problem (missing column, wrong dtype)
    examples: list[Any] = field(default_factory=list)
    detail: str = ""

    def describe(self, total_rows: int) -> str:
        """One line, e.g. ``column 'c': isin(['a']) fails for 2 of 90 rows, e.g. 'z'``."""
        where = f"column '{self.column}'" if self.column is not None else "frame"
        if not self.detail:
            text = f"{where}: {self.check} fails for {self.rows} of {total_rows} rows"
        elif self.check in _COLUMN_LEVEL:
            text = f"{where}: {self.detail}"
        else:
            text = f"{where}: {self.check}: {self.detail}"
        if self.examples:
            text += ", e.g. " + ", ".join(repr(v) for v in self.examples)
        return text


_COLUMN_LEVEL = ("column_in_dataframe", "column_in_schema", "not_nullable")


@dataclass
class ValidationReport:
    """The outcome of validating one artifact against its schema file."""

    artifact: str
    schema: str
    rows: int
    failures: list[Failure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    def first_line(self) -> str:
        """The summary line (what a failed step reports as its error)."""
        if self.ok:
            return f"{self.artifact} matches its schema {self.schema} ({self.rows} rows)"
        columns = sorted({f.column for f in self.failures if f.column is not None})
        count = len(self.failures)
        return (
            f"{self.artifact} does not match its schema {self.schema}: {count} failing "
            f"check{'s' if count > 1 else ''} in column{'s' if len(columns) > 1 else ''} "
            f"{', '.join(columns) or '(frame)'} ({self.rows} rows)"
        )

    def to_text(self) -> str:
        """The summary line, one indented line per failure, and what to do if it is intended."""
        lines = [self.first_line()]
        lines += [f"  - {f.describe(self.rows)}" for f in self.failures]
        if self.failures:
            lines.append(
                f"  (a change you intended? edit {self.schema}, or delete it: the next "
                "successful run infers it again)"
            )
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        """A JSON-able form of the report."""
        return {
            "artifact": self.artifact,
            "schema": self.schema,
            "rows": self.rows,
            "valid": self.ok,
            "failures": [vars(f) for f in self.failures],
        }


def validate_frame(frame: Any, schema: Any, artifact: str, schema_name: str) -> ValidationReport:
    """Validate ``frame`` with the pandera ``schema``, collecting every failure."""
    from pandera.errors import SchemaErrors

    report = ValidationReport(artifact, schema_name, len(frame))
    try:
        schema.validate(frame, lazy=True, inplace=True)
    except SchemaErrors as errors:
        report.failures = [_failure(error, frame) for error in errors.schema_errors]
    return report


def _failure(error: Any, frame: Any) -> Failure:
    import pandas as pd

    reason = getattr(error.reason_code, "name", "")
    check = error.check if isinstance(error.check, str) else (error.check.error or error.check.name)
    cases = error.failure_cases
    if reason == "COLUMN_NOT_IN_DATAFRAME":
        return Failure(str(cases), check, detail="missing from the data")
    if reason == "COLUMN_NOT_IN_SCHEMA":
        return Failure(str(cases), check, detail="not in the schema")
    column = getattr(error.schema, "name", None)
    if reason == "WRONG_DATATYPE" and column in frame:
        return _dtype_failure(str(column), check, error.schema.dtype, frame[column])
    if not isinstance(cases, pd.DataFrame):
        return Failure(None if column is None else str(column), check, detail=str(cases))
    if column is None or "column" in cases:  # a frame-wide check: count rows, not cells
        rows = int(cases["index"].nunique())
        return Failure(None, check, rows, _examples(cases["failure_case"]))
    if reason == "SERIES_CONTAINS_NULLS":
        detail = f"{len(cases)} missing values where none are allowed"
        return Failure(str(column), check, len(cases), detail=detail)
    return Failure(str(column), check, len(cases), _examples(cases["failure_case"]))


def _dtype_failure(column: str, check: str, expected: Any, series: Any) -> Failure:
    """Wrong dtype; for floats where integers are expected, the non-integer values."""
    import numpy as np
    from pandas.api.types import is_float_dtype, is_integer_dtype

    detail = f"expected {expected}, got {series.dtype}"
    try:
        integer_expected = is_integer_dtype(getattr(expected, "type", None))
    except TypeError:
        integer_expected = False
    if not (integer_expected and is_float_dtype(series.dtype)):
        return Failure(column, check, detail=detail)
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = values[np.isnan(values) | (values != np.floor(values))]
    detail += f"; {len(bad)} non-integer or missing value{'s' if len(bad) != 1 else ''}"
    return Failure(column, check, len(bad), _examples(bad[:_EXAMPLE_SCAN]), detail)


def _examples(values: Any) -> list[Any]:
    """Up to ``MAX_EXAMPLES`` distinct JSON-able values, in order of appearance."""
    import pandas as pd

    head = pd.Series(values[:_EXAMPLE_SCAN], dtype=object)
    return [_json_value(v) for v in head.drop_duplicates().iloc[:MAX_EXAMPLES]]


def _json_value(value: Any) -> Any:
    if hasattr(value, "item") and not isinstance(value, str):
        try:
            value = value.item()
        except (ValueError, TypeError):
            return str(value)
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is None or isinstance(value, str | bool | int | float):
        return value
    return str(value)


# --- the runner's hook ----------------------------------------------------------------------


@dataclass
class OutputChecks:
    """Validation and drift of one step's outputs."""

    error: str | None = None  # first problem that fails the step
    validation: dict[str, ValidationReport] = field(default_factory=dict)  # failing outputs
    drift: dict[str, DriftReport] = field(default_factory=dict)  # outputs above threshold
    metrics: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def fail(self, message: str) -> None:
        if self.error is None:
            self.error = message


def check_outputs(
    folder: Path,
    store: ArtifactStore,
    step: str,
    outputs: Mapping[str, ArtifactRef],
    settings: DriftSettings,
) -> OutputChecks:
    """Validate each output of ``step`` that has a schema file, then measure its drift."""
    from jupyter_mlops.quality.schemas import schema_file

    checks = OutputChecks()
    for name, ref in outputs.items():
        path = schema_file(folder, step, name)
        if not path.is_file():
            continue
        try:
            _check_output(checks, folder, store, step, name, ref, settings)
        except MlopsError as error:
            checks.fail(str(error))
        except Exception as exc:  # a schema pandera rejects at run time, a broken check
            checks.fail(
                f"cannot validate {step}.{name} against {path}: {type(exc).__name__}: {exc}"
            )
    return checks


def _check_output(
    checks: OutputChecks,
    folder: Path,
    store: ArtifactStore,
    step: str,
    name: str,
    ref: ArtifactRef,
    settings: DriftSettings,
) -> None:
    from jupyter_mlops.quality.drift import compute_drift
    from jupyter_mlops.quality.schemas import (
        as_frame,
        is_tabular,
        read_schema,
        read_stats,
        schema_file,
        stats_file,
    )

    path = schema_file(folder, step, name)
    artifact, relative = f"{step}.{name}", path.relative_to(folder).as_posix()
    if not is_tabular(ref):
        raise MlopsError(
            f"{artifact} is a {ref.type}, but {relative} expects a DataFrame or Series; "
            "fix the step or delete the schema",
            name=name,
        )
    schema = read_schema(path)
    frame = as_frame(store.get(ref))
    report = validate_frame(frame, schema, artifact, relative)
    if not report.ok:
        checks.validation[name] = report
        checks.fail(report.first_line())
        return
    stats = read_stats(stats_file(folder, step, name)) if settings.action != "off" else None
    if stats is None:
        return
    drift = compute_drift(frame, stats, artifact, settings)
    checks.metrics.update(drift.metrics(name))
    if drift.drifted():
        checks.drift[name] = drift
        if settings.action == "fail":
            checks.fail(drift.summary() + " (drift: fail in pipeline.yaml)")
        else:
            checks.warnings.append(drift.summary())
