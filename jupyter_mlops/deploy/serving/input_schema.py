"""The columns a served model takes, in order, with their MLflow types, and how a request's
values are coerced to those types.

Coercion accepts what MLflow's pyfunc schema enforcement accepts without changing the
value: an integer for a double column, an integral float for a long column, null or NaN for
a double column (NaN). It refuses what MLflow would silently alter (a fractional float for
a long, a number for a boolean, a string for a number, null for a long or a boolean).
"""

from __future__ import annotations

import binascii
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from jupyter_mlops.errors import DeployError

Converter = Callable[[Any], Any]
JSON, RAW, TEXT = "json", "raw", "text"  # how request values are coerced (see converters_for)

NAN = float("nan")
FLOAT32_MAX = 3.4028234663852886e38
INT_RANGES = {"long": (-(2**63), 2**63 - 1), "integer": (-(2**31), 2**31 - 1)}
# The cells pandas.read_csv (and so MLflow's CSV input) reads as missing.
CSV_MISSING = frozenset(
    ["", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN"]
    + ["<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"]
)
TENSOR_TYPES = {"float64": "double", "float32": "float", "int64": "long", "int32": "integer"}
TENSOR_TYPES["bool"] = "boolean"
EXACT_TYPES: dict[str, type] = {"double": float, "long": int, "string": str, "boolean": bool}


class ValueProblem(Exception):
    """One value does not fit its column; the caller adds the column and row."""


def show(value: Any) -> str:
    """A short rendering of a request value for an error message."""
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:37] + "...")
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if type(value) is int and abs(value) > 10**40:
        return f"an integer of {len(str(abs(value)))} digits"
    if isinstance(value, list | dict):
        return "a list" if isinstance(value, list) else "an object"
    return repr(value)


def _double(value: Any) -> Any:
    kind = type(value)
    if kind is float:
        return value
    if kind is int:
        try:
            return float(value)
        except OverflowError:
            raise ValueProblem(f"{show(value)} is out of range for double") from None
    if value is None:
        return NAN
    raise ValueProblem(f"{show(value)} is not a number (double)")


def _float(value: Any) -> Any:
    number = _double(value)
    if FLOAT32_MAX < abs(number) < math.inf:
        raise ValueProblem(f"{show(value)} is out of range for float")
    return number


def _integer_of(kind: str) -> Converter:
    low, high = INT_RANGES[kind]

    def convert(value: Any) -> Any:
        if type(value) is float and value.is_integer():
            value = int(value)
        if type(value) is not int:
            raise ValueProblem(f"{show(value)} is not an integer ({kind})")
        if not low <= value <= high:
            raise ValueProblem(f"{show(value)} is out of range for {kind}")
        return value

    return convert


def _boolean(value: Any) -> Any:
    if type(value) is bool:
        return value
    raise ValueProblem(f"{show(value)} is not a boolean (boolean)")


def _string(value: Any) -> Any:
    if value is None or type(value) is str:
        return value
    raise ValueProblem(f"{show(value)} is not a string (string)")


def _binary(value: Any) -> Any:
    if type(value) is not str:
        raise ValueProblem(f"{show(value)} is not a base64 string (binary)")
    try:
        return binascii.a2b_base64(value.encode())
    except (binascii.Error, UnicodeEncodeError):
        raise ValueProblem(f"{show(value)} is not valid base64 (binary)") from None


def _text_binary(value: Any) -> Any:
    """A binary value sent as text: its UTF-8 bytes."""
    if type(value) is not str:
        raise ValueProblem(f"{show(value)} is not a string (binary)")
    return value.encode()


def _datetime(value: Any) -> Any:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value) if type(value) is str else None
    except ValueError:
        moment = None
    if moment is None:
        raise ValueProblem(f"{show(value)} is not an ISO 8601 date-time (datetime)")
    if moment.tzinfo is not None:
        raise ValueProblem(f"{show(value)} has a time zone; datetime columns take naive times")
    return moment


def _any(value: Any) -> Any:
    return value


JSON_CONVERTERS: dict[str, Converter] = {
    "double": _double,
    "float": _float,
    "long": _integer_of("long"),
    "integer": _integer_of("integer"),
    "boolean": _boolean,
    "string": _string,
    "binary": _binary,
    "datetime": _datetime,
    "any": _any,
}


def _text_number(convert: Converter, kind: str, missing: Any) -> Converter:
    def from_text(cell: str) -> Any:
        if cell in CSV_MISSING:
            return convert(missing)
        try:
            number = float(cell) if kind in ("double", "float") else int(cell)
        except ValueError:
            noun = "a number" if kind in ("double", "float") else "an integer"
            raise ValueProblem(f"{show(cell)} is not {noun} ({kind})") from None
        return convert(number)

    return from_text


def _text_boolean(cell: str) -> Any:
    lowered = cell.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    raise ValueProblem(f"{show(cell)} is not a boolean (boolean)")


def _text_or_missing(convert: Converter) -> Converter:
    return lambda cell: None if cell in CSV_MISSING else convert(cell)


TEXT_CONVERTERS: dict[str, Converter] = {
    "double": _text_number(_double, "double", None),
    "float": _text_number(_float, "float", None),
    "long": _text_number(JSON_CONVERTERS["long"], "long", None),
    "integer": _text_number(JSON_CONVERTERS["integer"], "integer", None),
    "boolean": _text_boolean,
    "string": _text_or_missing(_string),
    "binary": _text_or_missing(_text_binary),  # MLflow's CSV input keeps the text too
    "datetime": _text_or_missing(_datetime),
    "any": _any,
}


@dataclass(frozen=True)
class InputSchema:
    """Column names in order and their MLflow types. No columns: any columns are taken
    unchecked. ``named`` is False when the signature gives positions only (the names are
    then ``"0"``, ``"1"``, ...); ``tensor`` is the numpy dtype of a one-tensor signature."""

    columns: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    required: tuple[bool, ...] = ()
    named: bool = True
    tensor: str | None = None

    @property
    def open(self) -> bool:
        """Whether any columns are accepted (the model has no signature)."""
        return not self.columns

    @cached_property
    def index(self) -> dict[str, int]:
        """Column name → position."""
        return {name: position for position, name in enumerate(self.columns)}

    @cached_property
    def converters(self) -> tuple[Converter, ...]:
        """Per column, the coercion of a JSON value."""
        return tuple(JSON_CONVERTERS[kind] for kind in self.types)

    def converters_for(self, coercion: str) -> tuple[Converter, ...]:
        """Per column, the coercion of a JSON value, a RAW JSON value or a TEXT cell."""
        if coercion == JSON:
            return self.converters
        return self.text_converters if coercion == TEXT else self.raw_converters

    @cached_property
    def raw_converters(self) -> tuple[Converter, ...]:
        """Per column, the coercion of a JSON value whose binary is text (instances, inputs)."""
        return tuple(
            _text_binary if kind == "binary" else JSON_CONVERTERS[kind] for kind in self.types
        )

    @cached_property
    def exact_types(self) -> tuple[type, ...] | None:
        """Per column, the Python type of a JSON value that needs no coercion; None when a
        column's type always needs converting (float, integer, binary, datetime, any)."""
        if any(kind not in EXACT_TYPES for kind in self.types):
            return None
        return tuple(EXACT_TYPES[kind] for kind in self.types)

    @cached_property
    def long_positions(self) -> tuple[int, ...]:
        """Positions of the long columns (their values need a range check)."""
        return tuple(i for i, kind in enumerate(self.types) if kind == "long")

    @cached_property
    def text_converters(self) -> tuple[Converter, ...]:
        """Per column, the coercion of a CSV cell."""
        return tuple(TEXT_CONVERTERS[kind] for kind in self.types)

    @classmethod
    def from_signature(cls, signature: Any) -> InputSchema:
        """The schema of an MLflow ``ModelSignature`` (None: accept any columns)."""
        inputs = getattr(signature, "inputs", None)
        if inputs is None:
            return cls()
        if inputs.is_tensor_spec():
            return _from_tensor(inputs)
        specs = inputs.inputs
        named = all(spec.name is not None for spec in specs)
        return cls(
            columns=tuple(spec.name if named else str(i) for i, spec in enumerate(specs)),
            types=tuple(_type_name(spec.type) for spec in specs),
            required=tuple(bool(spec.required) for spec in specs),
            named=named,
        )


def _type_name(mlflow_type: Any) -> str:
    """The MLflow DataType's name; "any" for arrays, objects, maps and AnyType."""
    name = getattr(mlflow_type, "name", None)
    return name if isinstance(name, str) and name in JSON_CONVERTERS else "any"


def _from_tensor(inputs: Any) -> InputSchema:
    """One unnamed tensor of shape (-1,) or (-1, n) → n unnamed numeric columns."""
    specs = inputs.inputs
    spec = specs[0]
    shape = tuple(spec.shape)
    dtype = str(spec.type)
    usable = len(specs) == 1 and spec.name is None and dtype in TENSOR_TYPES
    if not usable or shape[0] != -1 or len(shape) > 2 or (len(shape) == 2 and shape[1] < 1):
        raise DeployError(
            f"cannot serve a tensor signature {inputs}: the service takes column signatures "
            "or one unnamed numeric tensor of shape (-1,) or (-1, n)"
        )
    width = shape[1] if len(shape) == 2 else 1
    return InputSchema(
        columns=tuple(str(i) for i in range(width)),
        types=(TENSOR_TYPES[dtype],) * width,
        required=(True,) * width,
        named=False,
        tensor=dtype,
    )
