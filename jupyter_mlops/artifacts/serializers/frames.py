"""pandas DataFrame and Series artifacts as parquet (index, dtypes, names, labels kept)."""

from __future__ import annotations

import json
import sys
import warnings
from typing import Any

from jupyter_mlops.artifacts.serializers.basic import StrPath

_PARQUET_META_KEY = b"jupyter_mlops"
_SERIES_COLUMN = "__jupyter_mlops_series__"
_LABEL_TYPES = (str, int, float, bool, type(None))


def _is_plain_label(label: Any) -> bool:
    return type(label) in _LABEL_TYPES


def _encode_columns(columns: Any) -> dict[str, Any]:
    """Column labels as JSON, for labels parquet cannot keep as they are."""
    import pandas as pd

    if not _is_plain_label(columns.name):
        raise ValueError(f"column index name {columns.name!r} is not str/int/float/bool/None")
    if type(columns) is pd.RangeIndex:
        return {"range": [columns.start, columns.stop, columns.step], "name": columns.name}
    if isinstance(columns, pd.MultiIndex):
        raise ValueError("MultiIndex columns are not supported by parquet")
    labels = columns.tolist()
    if not all(_is_plain_label(label) for label in labels):
        raise ValueError("column labels must be str/int/float/bool/None")
    return {"values": labels, "dtype": str(columns.dtype), "name": columns.name}


def _decode_columns(encoded: dict[str, Any]) -> Any:
    import pandas as pd

    if "range" in encoded:
        return pd.RangeIndex(*encoded["range"], name=encoded["name"])
    return pd.Index(encoded["values"], dtype=encoded["dtype"], name=encoded["name"])


def _has_plain_string_columns(frame: Any) -> bool:
    columns = frame.columns
    return (
        type(columns).__name__ == "Index"
        and columns.is_unique
        and all(type(label) is str for label in columns)
        and _SERIES_COLUMN not in columns
    )


_PARQUET_OBJECT_KINDS = {"bytes", "decimal"}
_SECONDS_UNIT = ("datetime64[s", "timedelta64[s")


def _dtype_to_restore(dtype: Any) -> str | None:
    """The dtype name to cast back to after parquet, for dtypes parquet stores differently."""
    name = str(dtype)
    if name.startswith(_SECONDS_UNIT):
        return name  # parquet has no seconds unit: read back as milliseconds
    if getattr(dtype, "storage", None) == "python" and name == "string":
        return "string[python]"  # read back as string[pyarrow]
    return None


def _check_object_values(label: Any, values: Any) -> None:
    """Raise for object data parquet would change (lists become arrays, strings become str)."""
    from pandas.api.types import infer_dtype

    if values.dtype == object:
        kind = infer_dtype(values, skipna=True)
        if kind not in _PARQUET_OBJECT_KINDS:
            raise ValueError(f"object data {label!r} holds {kind} values, changed by parquet")


def _prepare_frame(frame: Any) -> dict[str, Any]:
    """Check the frame suits parquet; the casts needed after reading it back."""
    for level in range(frame.index.nlevels):
        _check_object_values("index", frame.index.get_level_values(level))
    casts: dict[str, Any] = {}
    for position, (label, dtype) in enumerate(frame.dtypes.items()):
        _check_object_values(label, frame.iloc[:, position])
        if cast := _dtype_to_restore(dtype):
            casts[str(position)] = cast
    if frame.index.nlevels == 1 and (cast := _dtype_to_restore(frame.index.dtype)):
        casts["index"] = cast
    return casts


def _restore_dtypes(frame: Any, casts: dict[str, str]) -> None:
    for key, dtype in casts.items():
        if key == "index":
            frame.index = frame.index.astype(dtype)
        else:
            frame.isetitem(int(key), frame.iloc[:, int(key)].astype(dtype))


def block_layout(frame: Any) -> list[dict[str, Any]] | None:
    """The frame's 2-D numpy blocks: their column positions and memory order ("C" or "F").

    Parquet hands a frame back consolidated in its own layout; a computation on it (a BLAS
    sum inside scikit-learn) may then differ in the last bits from one on the original. None
    when the frame's internals cannot be read (the frame then comes back as parquet gives it).
    """
    try:
        blocks = frame._mgr.blocks
        layout = []
        for block in blocks:
            values = block.values
            if getattr(values, "ndim", 1) != 2 or not hasattr(values, "flags"):
                continue
            order = "C" if values.flags["C_CONTIGUOUS"] else "F"
            if not (values.flags["C_CONTIGUOUS"] or values.flags["F_CONTIGUOUS"]):
                order = "K"  # a view with strides: no order to restore
            layout.append({"columns": [int(i) for i in block.mgr_locs.as_array], "order": order})
        return layout
    except (AttributeError, TypeError):
        return None


def restore_block_layout(frame: Any, layout: list[dict[str, Any]]) -> Any:
    """``frame`` rebuilt with the numpy blocks ``layout`` describes (same columns per block,
    same memory order); every other column stays a block of its own."""
    import numpy as np

    try:
        from pandas.api.internals import create_dataframe_from_blocks
    except ImportError:  # pandas without the public block constructor: keep parquet's layout
        return frame
    placed: set[int] = set()
    blocks = []
    for block in layout:
        positions = block["columns"]
        values = frame.iloc[:, positions].to_numpy().T
        ordered = (
            np.asfortranarray(values) if block["order"] == "F" else np.ascontiguousarray(values)
        )
        blocks.append((ordered, np.array(positions, dtype=np.intp)))
        placed.update(positions)
    for position in range(frame.shape[1]):
        if position not in placed:
            column = frame.iloc[:, position].array
            values = np.asarray(column).reshape(1, -1) if isinstance(column, np.ndarray) else column
            blocks.append((values, np.array([position], dtype=np.intp)))
    return create_dataframe_from_blocks(blocks, index=frame.index, columns=frame.columns)


class ParquetSerializer:
    """pandas DataFrame/Series as parquet (pyarrow); extra labels kept in schema metadata.

    Frames parquet would change (object columns of lists, strings or mixed values, MultiIndex
    or datetime column labels) are refused, so they fall through to cloudpickle.
    """

    name = "parquet"
    extension = "parquet"

    def matches(self, value: Any) -> bool:
        pd = sys.modules.get("pandas")
        return pd is not None and type(value) in (pd.DataFrame, pd.Series)

    def dump(self, value: Any, path: StrPath) -> None:
        import pandas as pd
        import pyarrow as pa
        import pyarrow.parquet as pq

        extra: dict[str, Any] = {}
        frame = value
        if isinstance(value, pd.Series):
            if not _is_plain_label(value.name):
                raise ValueError(f"Series name {value.name!r} is not str/int/float/bool/None")
            extra["series_name"] = value.name
            frame = value.to_frame(name=_SERIES_COLUMN)
        elif not _has_plain_string_columns(frame):
            extra["columns"] = _encode_columns(frame.columns)
            frame = frame.set_axis([f"c{i}" for i in range(frame.shape[1])], axis=1)
        extra["casts"] = _prepare_frame(frame)
        if isinstance(value, pd.DataFrame) and (layout := block_layout(value)) is not None:
            extra["blocks"] = layout
        with warnings.catch_warnings():
            # pyarrow reads tz-aware columns through Series.values, deprecated in pandas 3.1.
            warnings.filterwarnings("ignore", message="Series.values returning an ndarray")
            table = pa.Table.from_pandas(frame)
        metadata = dict(table.schema.metadata or {})
        metadata[_PARQUET_META_KEY] = json.dumps(extra).encode()
        pq.write_table(table.replace_schema_metadata(metadata), path)

    def load(self, path: StrPath) -> Any:
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        extra = json.loads((table.schema.metadata or {}).get(_PARQUET_META_KEY, b"{}"))
        frame = table.to_pandas()
        _restore_dtypes(frame, extra.get("casts", {}))
        if "series_name" in extra:
            series = frame[_SERIES_COLUMN]
            series.name = extra["series_name"]
            return series
        if "columns" in extra:
            frame.columns = _decode_columns(extra["columns"])
        if "blocks" in extra:
            frame = restore_block_layout(frame, extra["blocks"])
        return frame
