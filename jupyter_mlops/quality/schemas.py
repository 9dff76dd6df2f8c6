"""Data schemas of DataFrame/Series artifacts: inferred, written as pandera YAML, read back.

``<pipeline>/schemas/<step>.<name>.yaml`` is a pandera ``DataFrameSchema`` in pandera's own
YAML (``pandera.io``; load it with ``DataFrameSchema.from_yaml``) that users review, edit and
commit. Inference (:func:`infer_schema`) records, per column:

* the dtype, and ``nullable`` when the data has missing values;
* numeric (not bool) columns: ``in_range(lo, hi)`` — the observed min/max widened by
  ``RANGE_TOLERANCE`` (50%) of their span (of ``max(|value|, 1)`` for a constant column) on
  each side, a non-negative column keeping ``lo >= 0``; bounds rounded outward (integers for
  integer columns, else to the margin's leading digit). The margin is wide on purpose: a
  failed check stops the pipeline, so it targets gross errors (units, signs, sentinels such
  as -999); a sample's extremes move with its size (a 10% margin failed most re-splits of
  the example data), and smaller shifts are the drift check's job;
* categorical columns (category dtype, or strings with at most ``MAX_CATEGORIES`` distinct
  values and at least two rows per value): ``isin(values seen)``;
* the frame is ``strict``: a missing or unexpected column fails. Datetimes get no range.

A Series is checked as a one-column frame named after the Series (``value`` when unnamed).
Reference statistics for drift (``drift.reference_stats``) go beside it in
``<step>.<name>.stats.json``. pandas/pandera are imported inside functions.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jupyter_mlops.artifacts.store import (
    ArtifactRef,
    ArtifactStore,
    read_json_file,
    write_json_atomic,
    write_text_atomic,
)
from jupyter_mlops.errors import ArtifactError, DataSchemaError
from jupyter_mlops.execute.cache import CacheEntry
from jupyter_mlops.execute.status import StepStatus

if TYPE_CHECKING:
    from jupyter_mlops.execute.after_run import AfterRun

SCHEMAS_DIR = "schemas"
RANGE_TOLERANCE = 0.5
MAX_CATEGORIES = 50
SERIES_COLUMN = "value"
HEADER = """\
# Data schema of output '{name}' of step '{step}' (pandera YAML), inferred by jupyter_mlops
# from {rows} rows. Numeric ranges: observed min/max widened by {tolerance:.0%} of their span
# (non-negative columns stay >= 0); strings with at most {categories} distinct values: isin.
# Review, edit and commit it; `jupyter mlops schema PIPELINE --refresh` re-infers it.
# Drift reference statistics: {stats}
"""


def schema_file(folder: str | os.PathLike[str], step: str, name: str) -> Path:
    """``<folder>/schemas/<step>.<name>.yaml``."""
    return Path(folder) / SCHEMAS_DIR / f"{step}.{name}.yaml"


def stats_file(folder: str | os.PathLike[str], step: str, name: str) -> Path:
    """``<folder>/schemas/<step>.<name>.stats.json``."""
    return Path(folder) / SCHEMAS_DIR / f"{step}.{name}.stats.json"


def is_tabular(ref: ArtifactRef) -> bool:
    """Whether the artifact is a pandas DataFrame or Series."""
    module, _, cls = ref.type.rpartition(".")
    return module.partition(".")[0] == "pandas" and cls in ("DataFrame", "Series")


def as_frame(value: Any) -> Any:
    """A DataFrame with string column labels (a Series becomes one column)."""
    import pandas as pd

    if isinstance(value, pd.Series):
        return value.to_frame(name=SERIES_COLUMN if value.name is None else str(value.name))
    if not isinstance(value, pd.DataFrame):
        raise DataSchemaError(f"expected a DataFrame or Series, got {type(value).__name__}")
    if all(isinstance(c, str) for c in value.columns):
        return value
    return value.set_axis([str(c) for c in value.columns], axis=1)


def category_values(series: Any) -> list[Any] | None:
    """The allowed values of a categorical column, or None for other columns."""
    import pandas as pd
    from pandas.api.types import is_string_dtype

    if isinstance(series.dtype, pd.CategoricalDtype):
        return [_plain(v) for v in series.dtype.categories]
    if not is_string_dtype(series):
        return None
    present = series.dropna()
    values = present.unique()
    if len(values) > MAX_CATEGORIES or len(values) > max(1, len(present) // 2):
        return None
    return sorted(str(v) for v in values)


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def widened_range(
    low: float, high: float, integer: bool, tolerance: float | None = None
) -> tuple[float, float]:
    """The allowed range for observed ``[low, high]`` (see the module docstring)."""
    tolerance = RANGE_TOLERANCE if tolerance is None else tolerance
    margin = tolerance * ((high - low) if high > low else max(abs(high), 1.0))
    lo, hi = low - margin, high + margin
    if low >= 0:
        lo = max(lo, 0.0)
    if integer:
        return int(math.floor(lo)), int(math.ceil(hi))
    if margin <= 0:
        return lo, hi
    exponent = math.floor(math.log10(margin))
    step, digits = 10.0**exponent, max(0, -exponent)
    return round(math.floor(lo / step) * step, digits), round(math.ceil(hi / step) * step, digits)


def observed_range(series: Any) -> tuple[float, float] | None:
    """Min and max of a numeric column's values (None when empty or holding infinities)."""
    import numpy as np

    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    present = values[~np.isnan(values)]
    if not len(present) or not np.isfinite(present).all():
        return None
    return float(present.min()), float(present.max())


def infer_schema(value: Any, artifact: str = "") -> Any:
    """A pandera ``DataFrameSchema`` for ``value`` (DataFrame or Series)."""
    import pandera.pandas as pa
    from pandas.api.types import is_bool_dtype, is_integer_dtype, is_numeric_dtype

    frame = as_frame(value)
    columns = {}
    for column in frame.columns:
        series = frame[column]
        checks = []
        allowed = category_values(series)
        if allowed is not None:
            checks.append(pa.Check.isin(allowed))
        elif is_numeric_dtype(series.dtype) and not is_bool_dtype(series.dtype):
            bounds = observed_range(series)
            if bounds is not None:
                lo, hi = widened_range(*bounds, integer=is_integer_dtype(series.dtype))
                checks.append(pa.Check.in_range(lo, hi))
        columns[column] = pa.Column(
            series.dtype, checks=checks or None, nullable=bool(series.isna().any())
        )
    return pa.DataFrameSchema(columns, strict=True, name=artifact or None)


def categorical_columns(frame: Any) -> set[str]:
    """Columns whose drift is measured by value frequencies: bool and categorical ones."""
    from pandas.api.types import is_bool_dtype

    return {
        c
        for c in frame.columns
        if is_bool_dtype(frame[c].dtype) or category_values(frame[c]) is not None
    }


def read_schema(path: Path) -> Any:
    """The pandera schema in ``path``; ``DataSchemaError`` naming the file when invalid."""
    import pandera.pandas as pa

    try:
        return pa.DataFrameSchema.from_yaml(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DataSchemaError(f"cannot read schema: {exc.strerror}", path=str(path)) from None
    except Exception as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataSchemaError(f"invalid pandera schema: {detail}", path=str(path)) from None


def without_range_checks(schema: Any) -> Any:
    """The schema with its numeric ``in_range`` checks removed (structure, categories and
    nullability kept): for resampled data such as test fixtures, whose rows legitimately
    reach outside the ranges learned from one run's values."""
    columns = {
        name: {"checks": [check for check in column.checks if check.name != "in_range"]}
        for name, column in schema.columns.items()
    }
    return schema.update_columns(columns) if columns else schema


def read_stats(path: Path) -> dict[str, Any] | None:
    """Reference statistics in ``path`` (None when the file is absent)."""
    data = read_json_file(path, DataSchemaError, "drift statistics")
    if data is None:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("columns"), dict):
        raise DataSchemaError("drift statistics lack a 'columns' mapping", path=str(path))
    return data


def write_schema(folder: Path, step: str, name: str, value: Any) -> Path:
    """Infer and write the schema and drift statistics of one artifact; returns the YAML path."""
    from jupyter_mlops.quality.drift import reference_stats

    frame = as_frame(value)
    path, stats_path = schema_file(folder, step, name), stats_file(folder, step, name)
    schema = infer_schema(frame, f"{step}.{name}")
    header = HEADER.format(
        name=name,
        step=step,
        rows=len(frame),
        tolerance=RANGE_TOLERANCE,
        categories=MAX_CATEGORIES,
        stats=stats_path.name,
    )
    text = header + schema.to_yaml()
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(stats_path, reference_stats(frame, categorical_columns(frame)))
    write_text_atomic(path, text)
    return path


@dataclass
class SchemaWrite:
    """What writing schemas did: files written, schemas kept as they were, problems."""

    written: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def write_schemas(
    folder: Path,
    store: ArtifactStore,
    outputs: Iterable[tuple[str, ArtifactRef]],
    refresh: bool = False,
) -> SchemaWrite:
    """Write the schema of each tabular ``(step, ref)`` output that has none (all with
    ``refresh``); an artifact that cannot be read or inferred becomes a warning."""
    done = SchemaWrite()
    for step, ref in outputs:
        if not is_tabular(ref):
            continue
        path = schema_file(folder, step, ref.name)
        if path.exists() and not refresh:
            done.kept.append(path)
            continue
        try:
            done.written.append(write_schema(folder, step, ref.name, store.get(ref)))
        except (ArtifactError, DataSchemaError) as error:
            done.warnings.append(f"no schema for {step}.{ref.name}: {error}")
        except Exception as exc:  # an exotic dtype pandera cannot express
            done.warnings.append(
                f"no schema for {step}.{ref.name}: {type(exc).__name__}: {exc}".splitlines()[0]
            )
    return done


def latest_outputs(store: ArtifactStore, steps: Iterable[str]) -> list[tuple[str, ArtifactRef]]:
    """The outputs of each step's newest cache entry (its latest successful execution)."""
    outputs: list[tuple[str, ArtifactRef]] = []
    for step in steps:
        entries = sorted(
            (Path(store.root) / "cache" / step).glob("*.json"),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )
        for path in entries:
            try:
                entry = CacheEntry.from_dict(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError, KeyError, TypeError, ArtifactError):
                continue
            outputs += [(step, ref) for _, ref in sorted(entry.outputs.items())]
            break
    return outputs


def schemas_from_cache(folder: Path, steps: list[str], refresh: bool = False) -> SchemaWrite:
    """``jupyter mlops schema``: schemas from the latest cached artifacts of every step."""
    store = ArtifactStore.for_pipeline(folder.resolve())
    outputs = latest_outputs(store, steps)
    if not outputs:
        raise DataSchemaError(
            f"pipeline {folder} has not run yet: no artifacts to infer schemas from; "
            f"run it first (jupyter mlops run {folder})",
            name="schemas",
        )
    return write_schemas(folder, store, outputs, refresh)


def write_missing_schemas_link(context: AfterRun) -> None:
    """After-run link ``schemas``: after a successful run, infer a schema for every
    DataFrame/Series output that has none yet — not for a sink step's results, which no
    step reads (validating a summary against ranges seen once would fail later runs)."""
    if not context.succeeded:
        return
    folder, result = context.pipeline_file.folder, context.result
    outputs = [
        (step.name, ref)
        for step in result.steps.values()
        if StepStatus(step.status).done
        for ref in step.outputs.values()
        if is_tabular(ref)
        and ref.name not in result.results.get(step.name, ())
        and not schema_file(folder, step.name, ref.name).exists()
    ]
    if outputs:
        written = write_schemas(folder, context.store, outputs)
        result.schemas_written += written.written
        result.warnings += written.warnings
