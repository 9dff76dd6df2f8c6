"""Validated request rows: a table of values (lists under column names, or positional)
checked against an ``InputSchema`` — shape, columns, row limit — and coerced to its types.
Every request format (MLflow's, CSV, the Open Inference Protocol) ends here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jupyter_mlops.deploy.serving.input_schema import (
    JSON,
    TEXT,
    Converter,
    InputSchema,
    ValueProblem,
    show,
)
from jupyter_mlops.deploy.serving.request_error import RequestError, bad_request, malformed

LONG_MIN, LONG_MAX = -(2**63), 2**63 - 1


@dataclass(frozen=True, slots=True)
class Rows:
    """Validated request rows: ``columns`` in the model's order, ``values`` row-major."""

    columns: tuple[str, ...]
    values: list[tuple[Any, ...]]

    def __len__(self) -> int:
        return len(self.values)


def build_rows(
    names: list[Any] | tuple[Any, ...] | None,
    data: list[Any],
    schema: InputSchema,
    max_rows: int,
    coercion: str = JSON,
) -> Rows:
    """Rows of ``data`` (lists of values under ``names``, or positional when None) checked
    and coerced against ``schema``: JSON values (binary as base64), RAW JSON values
    (binary as text) or TEXT cells of a CSV."""
    count = len(data)
    if count == 0:
        raise bad_request("the input has no rows")
    if count > max_rows:
        raise bad_request(f"the input has {count} rows; the limit is {max_rows}")
    width = len(names) if names is not None else _first_width(data)
    if width == 0:
        raise bad_request("the rows have no values")
    data = _checked_shape(data, width)
    if schema.open:
        return _unchecked_rows(names, data, width)
    order = column_order(names, width, schema)
    convert = schema.converters_for(coercion)
    if order is not None and width in order:
        data = [row + [None] for row in data]
        convert = tuple(c if i != width else _absent for c, i in zip(convert, order, strict=True))
    values = _as_sent(data, schema) if order is None and coercion != TEXT else None
    if values is not None:
        return Rows(schema.columns, values)
    try:
        if order is None:
            values = [tuple([c(v) for c, v in zip(convert, row, strict=True)]) for row in data]
        else:
            values = [
                tuple([c(row[i]) for c, i in zip(convert, order, strict=True)]) for row in data
            ]
    except ValueProblem as problem:
        raise _located(data, order, convert, schema, problem) from None
    return Rows(schema.columns, values)


def _as_sent(data: list[Any], schema: InputSchema) -> list[tuple[Any, ...]] | None:
    """The rows unchanged when every value already has its column's exact type (and each
    long is in range), so no value needs converting; else None."""
    exact = schema.exact_types
    if exact is None:
        return None
    longs = schema.long_positions
    for row in data:
        if tuple(map(type, row)) != exact:
            return None
        for i in longs:
            if not LONG_MIN <= row[i] <= LONG_MAX:
                return None
    return [tuple(row) for row in data]


def _absent(value: Any) -> Any:
    """The value of an optional column the request left out (None)."""
    return value


def _first_width(data: list[Any]) -> int:
    first = data[0]
    return len(first) if type(first) is list else 1


def _checked_shape(data: list[Any], width: int) -> list[Any]:
    """``data`` when every row is a list of ``width`` values (one-column scalars wrapped)."""
    for row in data:
        if type(row) is not list or len(row) != width:
            break
    else:
        return data
    if width == 1 and all(type(row) is not list for row in data):
        return [[value] for value in data]
    number = data.index(row)
    if type(row) is not list:
        raise malformed(f"row {number} is {show(row)}, not a list of values")
    raise malformed(f"row {number} has {len(row)} values; expected {width}")


def _unchecked_rows(names: Any, data: list[Any], width: int) -> Rows:
    """Rows for a model without a signature: values as sent, names as sent or positions."""
    if names is None:
        return Rows(_positions(width), [tuple(row) for row in data])
    _check_names(names)
    return Rows(tuple(names), [tuple(row) for row in data])


def _positions(width: int) -> tuple[str, ...]:
    return tuple(str(i) for i in range(width))


def _check_names(names: Any) -> None:
    """400 when column names are not all distinct strings."""
    if not all(type(name) is str for name in names):
        wrong = [name for name in names if type(name) is not str]
        raise bad_request(f"column names must be strings, got {listing(wrong)}")
    if len(set(names)) != len(names):
        seen: set[str] = set()
        twice: list[str] = []
        for name in names:
            if name in seen and name not in twice:
                twice.append(name)
            seen.add(name)
        raise bad_request(f"column(s) {listing(twice)} appear more than once")


def column_order(names: Any, width: int, schema: InputSchema) -> list[int] | None:
    """For each schema column, its position in the sent rows (``width``: an optional column
    not sent); None when the rows are already in the schema's order."""
    expected = len(schema.columns)
    if names is None or not schema.named:
        if width != expected:
            raise bad_request(
                f"the rows have {width} values; the model takes {expected} column(s): "
                f"{', '.join(schema.columns)}"
            )
        return None
    if tuple(names) == schema.columns:
        return None
    _check_names(names)
    position = {name: i for i, name in enumerate(names)}
    missing = [
        c
        for c, req in zip(schema.columns, schema.required, strict=True)
        if req and c not in position
    ]
    extra = [name for name in names if name not in schema.index]
    if missing or extra:
        problems = [f"missing column(s) {listing(missing)}"] if missing else []
        problems += [f"unknown column(s) {listing(extra)}"] if extra else []
        raise bad_request(f"{'; '.join(problems)}; the model takes {', '.join(schema.columns)}")
    return [position.get(column, width) for column in schema.columns]


def _located(
    data: list[Any],
    order: list[int] | None,
    convert: tuple[Converter, ...],
    schema: InputSchema,
    problem: ValueProblem,
) -> RequestError:
    """The 400 naming the column, row and value of the first value that does not fit."""
    for number, row in enumerate(data):
        for column, converter in enumerate(convert):
            try:
                converter(row[column if order is None else order[column]])
            except ValueProblem as found:
                return bad_request(f"column '{schema.columns[column]}' row {number}: {found}")
    return bad_request(str(problem))


def listing(names: Any, most: int = 10) -> str:
    """Names for a message: at most ``most`` of them, then how many more."""
    shown = ", ".join(show(name) for name in list(names)[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")
