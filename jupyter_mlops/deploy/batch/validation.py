"""Every chunk is checked against the model version's MLflow signature before anything
is written: each signature column present with a type MLflow's schema enforcement takes
without changing values (an integer for a double is widened, a float for a long is
refused), and the key column present, non-null and unique within the chunk (the staging
table's unique index catches duplicates across chunks)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jupyter_mlops.deploy.serving.input_schema import InputSchema
from jupyter_mlops.errors import DeployError

NUMBER_KINDS = frozenset({"floating", "integer", "mixed-integer-float", "empty"})
INT_RANGES = {"long": (-(2**63), 2**63 - 1), "integer": (-(2**31), 2**31 - 1)}
CAST = {"double": "float64", "float": "float32", "long": "int64", "integer": "int32"}


@dataclass(frozen=True)
class ScoringInput:
    """What a model version takes: its signature's columns in order with their MLflow
    types, and the key column that identifies each scored row."""

    columns: tuple[str, ...]
    types: tuple[str, ...]
    key: str

    @classmethod
    def from_signature(cls, signature: Any, key: str, model: str) -> ScoringInput:
        """The input of a version with ``signature``; ``DeployError`` naming ``model`` when
        it has no column signature (nothing to check the rows against)."""
        schema = InputSchema.from_signature(signature)
        if schema.open or schema.tensor is not None or not schema.named:
            raise DeployError(
                f"{model} has no column signature: scoring needs the named columns the "
                "model takes (register it with a signature)",
                name=model,
            )
        return cls(schema.columns, schema.types, key)


def model_frame(chunk: Any, spec: ScoringInput, source: str) -> Any:
    """The model's input of ``chunk``: the signature columns in order, each cast to its
    type; ``DeployError`` naming the column and ``source`` when one is missing or holds
    values of another type, or the key column is missing, null or repeated."""
    check_key(chunk, spec.key, source)
    missing = [name for name in spec.columns if name not in chunk.columns]
    if missing:
        raise DeployError(
            f"column '{missing[0]}' is missing from {source} (the model takes: "
            f"{', '.join(spec.columns)})",
            name=missing[0],
            path=source,
        )
    frame = chunk.loc[:, list(spec.columns)]
    for name, kind in zip(spec.columns, spec.types, strict=True):
        frame[name] = _typed_column(frame[name], kind, name, source)
    return frame


def check_key(chunk: Any, key: str, source: str) -> None:
    """``DeployError`` naming the key column when it is missing, has nulls or repeats."""
    if key not in chunk.columns:
        known = ", ".join(str(c) for c in chunk.columns)
        raise DeployError(
            f"key column '{key}' is missing from {source} (columns: {known})",
            name=key,
            path=source,
        )
    keys = chunk[key]
    nulls = keys.isna()
    if nulls.any():
        raise DeployError(
            f"key column '{key}' has {int(nulls.sum())} null value(s) in {source}",
            name=key,
            path=source,
        )
    repeated = keys[keys.duplicated()].tolist()  # plain Python values
    if repeated:
        raise DeployError(
            f"key column '{key}' repeats the value {repeated[0]!r} in {source}",
            name=key,
            path=source,
        )


def _typed_column(column: Any, kind: str, name: str, source: str) -> Any:
    """``column`` cast to MLflow type ``kind``, or ``DeployError`` naming it."""
    from pandas.api.types import infer_dtype

    inferred = infer_dtype(column, skipna=True)
    if kind in ("double", "float") and inferred in NUMBER_KINDS and column.dtype.kind != "b":
        return column.astype(CAST[kind])
    if kind in INT_RANGES and column.dtype.kind in "iu":
        low, high = INT_RANGES[kind]
        if len(column) and (column.min() < low or column.max() > high):
            raise _wrong_type(name, source, f"integers out of range for {kind}", kind)
        return column.astype(CAST[kind])
    if kind == "boolean" and column.dtype.kind == "b":
        return column
    if kind == "string" and inferred in ("string", "empty"):
        return column
    if kind == "datetime" and column.dtype.kind == "M":
        return column
    if kind == "binary" and inferred in ("bytes", "empty"):
        return column
    if kind == "any":
        return column
    return _refuse(column, inferred, kind, name, source)


def _refuse(column: Any, inferred: str, kind: str, name: str, source: str) -> Any:
    """Raise the ``DeployError`` saying what ``column`` holds instead of ``kind``."""
    if kind in INT_RANGES and column.dtype.kind == "f" and column.isna().any():
        raise _wrong_type(name, source, "missing values", kind)
    raise _wrong_type(name, source, f"{inferred} values ({column.dtype})", kind)


def _wrong_type(name: str, source: str, held: str, kind: str) -> DeployError:
    return DeployError(
        f"column '{name}' of {source} holds {held}; the model takes {kind}",
        name=name,
        path=source,
    )
