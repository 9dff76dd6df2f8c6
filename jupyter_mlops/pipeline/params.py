"""Pipeline parameter values given on the command line (``-p NAME=VALUE``)."""

from __future__ import annotations

import ast
import json
from collections.abc import Iterable, Mapping
from typing import Any

from jupyter_mlops.errors import ParameterError


def parse_value(text: str) -> Any:
    """A Python literal (``0.5``, ``[1, 2]``, ``'x'``, ``None``), else a JSON value
    (``true``, ``[1, null]``: how Kubeflow Pipelines renders a parameter into an exported
    step's ``-p NAME=VALUE``); anything else is a string."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        pass
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_assignments(items: Iterable[str]) -> dict[str, Any]:
    """``["C=0.5", "name=foo"]`` → ``{"C": 0.5, "name": "foo"}``."""
    values: dict[str, Any] = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ParameterError(f"-p expects NAME=VALUE, got '{item}'", name=item)
        values[name] = parse_value(text.strip())
    return values


def resolve_params(declared: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Declared defaults with the overrides applied (a number as the default's number type,
    ``as_declared``); unknown names are refused."""
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        known = ", ".join(declared) or "none"
        raise ParameterError(
            f"unknown parameter '{unknown[0]}' (declared parameters: {known})", name=unknown[0]
        )
    return {**declared, **{n: as_declared(declared[n], v) for n, v in overrides.items()}}


def as_declared(default: Any, value: Any) -> Any:
    """``value`` as the type of a number ``default`` when that keeps it equal: ``200.0``
    for an int parameter is ``200``, ``1`` for a float one ``1.0`` (orchestrators such as
    Kubeflow Pipelines render numbers as JSON, where the two are one type); anything else
    as given."""
    if isinstance(default, bool) or isinstance(value, bool):
        return value
    if isinstance(default, int) and isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(default, float) and type(value) is int and float(value) == value:
        return float(value)
    return value
