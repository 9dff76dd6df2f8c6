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
    ``as_declared``); unknown names and values of another type than the default's
    (``checked``) are refused."""
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        known = ", ".join(declared) or "none"
        raise ParameterError(
            f"unknown parameter '{unknown[0]}' (declared parameters: {known})", name=unknown[0]
        )
    values = dict(declared)
    for name, value in overrides.items():
        values[name] = checked(name, declared[name], as_declared(declared[name], value))
    return values


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


EXPECTED = {"int": "an integer", "float": "a number", "bool": "True or False", "list": "a list"}


def param_type(default: Any) -> str:
    """The type a parameter takes, from its default: int, float, bool, str, list, or any
    (``None``, a dict). The panel's form reads it from ``GET pipeline`` (``param_types``):
    JSON writes the float ``1.0`` as ``1``."""
    if isinstance(default, bool):
        return "bool"
    if isinstance(default, int):
        return "int"
    if isinstance(default, float):
        return "float"
    if isinstance(default, str):
        return "str"
    if isinstance(default, list | tuple):
        return "list"
    return "any"


def checked(name: str, default: Any, value: Any) -> Any:
    """``value`` when it fits the type of ``default`` (``param_type``; a string or ``any``
    parameter takes every value, so ``-p name=5`` stays 5), else ParameterError worded as
    the panel's form words it: "parameter 'n' expects an integer, got 3.5"."""
    kind = param_type(default)
    if kind not in EXPECTED or _fits(kind, value):
        return value
    raise ParameterError(f"parameter '{name}' expects {EXPECTED[kind]}, got {value!r}", name=name)


def _fits(kind: str, value: Any) -> bool:
    if kind == "bool":
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if kind == "int":
        return isinstance(value, int)
    if kind == "float":
        return isinstance(value, int | float)
    return isinstance(value, list | tuple)
