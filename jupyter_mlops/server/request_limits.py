"""Bounds on what a REST request may carry: body size, JSON depth, number sizes, names.

Checked before anything runs, so an oversized or pathological request is a 4xx JSON reply
naming the field at fault, never a 500 (Python's json raises RecursionError on deep
nesting and ValueError on integers of more than 4,300 digits).
"""

from __future__ import annotations

import json
import math
import unicodedata
from collections.abc import Iterator
from typing import Any

from jupyter_mlops.server.api_error import ApiError

MAX_BODY_BYTES = 16 * 1024 * 1024
"""The largest request body accepted (a notebook's content without outputs fits easily)."""

MAX_JSON_DEPTH = 64
"""The deepest nesting of arrays and objects accepted in a request body."""

MAX_NUMBER_DIGITS = 100
"""The longest number (in digits) accepted in a request body."""

MAX_NAME_CHARS = 255
"""The longest pipeline, model, engine or parameter name accepted."""

MAX_PARAM_CHARS = 10_000
"""The longest parameter value accepted, written as a Python literal (it becomes ``-p``)."""

MAX_PARAMS = 1_000
"""The most parameters one run request may set."""


class _Refused:
    """Stands for a number refused (too long, not finite) until its field is known."""

    def __init__(self, why: str) -> None:
        self.why = why


def parse_json_object(body: bytes) -> dict[str, Any]:
    """The request body as a JSON object within the bounds; ApiError (400/413) otherwise."""
    if len(body) > MAX_BODY_BYTES:
        raise ApiError(
            413,
            f"the request body has {len(body):,} bytes; at most {MAX_BODY_BYTES:,} are accepted",
        )
    try:
        data = json.loads(
            body or b"",
            parse_int=_bounded_int,
            parse_float=_bounded_float,
            parse_constant=lambda name: _Refused(f"{name}, which JSON does not allow"),
        )
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"the request body is not valid JSON: {exc}") from None
    except RecursionError:
        raise ApiError(
            400, f"the request body is nested more than {MAX_JSON_DEPTH} levels deep"
        ) from None
    if not isinstance(data, dict):
        raise ApiError(400, "the request body must be a JSON object")
    _check_values(data)
    return data


def _bounded_int(text: str) -> int | _Refused:
    return _too_long(text) if len(text) > MAX_NUMBER_DIGITS else int(text)


def _bounded_float(text: str) -> float | _Refused:
    if len(text) > MAX_NUMBER_DIGITS:
        return _too_long(text)
    value = float(text)
    return value if math.isfinite(value) else _Refused(f"{text}, too large for a number")


def _too_long(text: str) -> _Refused:
    return _Refused(
        f"a number of {len(text):,} characters; at most {MAX_NUMBER_DIGITS} are accepted"
    )


def _check_values(data: dict[str, Any]) -> None:
    """Refuse, naming the field, a value nested too deeply or a number too long."""
    for field, value, depth in _walk(data):
        if depth > MAX_JSON_DEPTH:
            raise ApiError(400, f"'{field}' is nested more than {MAX_JSON_DEPTH} levels deep")
        if isinstance(value, _Refused):
            raise ApiError(400, f"'{field}' is {value.why}")


def _walk(data: dict[str, Any]) -> Iterator[tuple[str, Any, int]]:
    """(dotted field, value, depth) of every value, iteratively; keys are shortened."""
    stack: list[tuple[str, Any, int]] = [(_short(key), value, 1) for key, value in data.items()]
    while stack:
        field, value, depth = stack.pop()
        yield field, value, depth
        if depth > MAX_JSON_DEPTH:
            continue
        if isinstance(value, dict):
            stack += [(f"{field}.{_short(k)}", v, depth + 1) for k, v in value.items()]
        elif isinstance(value, list):
            stack += [(f"{field}[{i}]", v, depth + 1) for i, v in enumerate(value)]


def _short(key: str) -> str:
    return key if len(key) <= 40 else key[:37] + "…"


def check_name(value: object, field: str) -> str:
    """A non-empty name (pipeline, model) of at most MAX_NAME_CHARS characters."""
    if not isinstance(value, str) or not value.strip():
        raise ApiError(400, f"'{field}' must be a non-empty name")
    if len(value) > MAX_NAME_CHARS or "\x00" in value:
        raise ApiError(
            400, f"'{field}' has {len(value):,} characters; at most {MAX_NAME_CHARS} are accepted"
        )
    return value


def check_model_name(value: object, field: str) -> str:
    """A registered model's name: :func:`check_name`, without what MLflow refuses in one
    ('/', ':') nor control characters."""
    name = check_name(value, field)
    if any(c in "/:" or unicodedata.category(c).startswith("C") for c in name):
        raise ApiError(400, f"'{field}' is no model name: it holds '/', ':' or a control character")
    return name


def check_params(params: object) -> dict[str, Any]:
    """``params`` of ``POST run``: names that are identifiers, values of bounded size."""
    if not isinstance(params, dict) or not all(isinstance(k, str) for k in params):
        raise ApiError(400, "'params' must be an object of parameter name → value")
    if len(params) > MAX_PARAMS:
        raise ApiError(400, f"'params' sets {len(params):,} parameters; at most {MAX_PARAMS}")
    for name, value in params.items():
        if len(name) > MAX_NAME_CHARS or not name.isidentifier():
            raise ApiError(400, f"'params.{_short(name)}' is not a parameter name")
        if len(repr(value)) > MAX_PARAM_CHARS:
            raise ApiError(
                400,
                f"'params.{name}' is {len(repr(value)):,} characters as a Python literal; "
                f"at most {MAX_PARAM_CHARS:,} are accepted",
            )
    return params
