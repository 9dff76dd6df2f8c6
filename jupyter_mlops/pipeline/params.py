"""Pipeline parameter values given on the command line (``-p NAME=VALUE``)."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from typing import Any

from jupyter_mlops.errors import ParameterError


def parse_value(text: str) -> Any:
    """A Python literal (``0.5``, ``[1, 2]``, ``'x'``, ``None``); anything else is a string."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
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
    """Declared defaults with the overrides applied; unknown names are refused."""
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        known = ", ".join(declared) or "none"
        raise ParameterError(
            f"unknown parameter '{unknown[0]}' (declared parameters: {known})", name=unknown[0]
        )
    return {**declared, **overrides}
