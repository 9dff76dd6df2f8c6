"""Resource amounts a step needs from a cluster worker: ``cpu=2,memory=4GB`` or a mapping.

The same syntax is written on a ``%%mlstep ... --resources`` line, in a step's
``resources`` field of pipeline.yaml and in its ``resources:`` section
(``execute/executors/resources.py``). Memory takes a unit (``KB MB GB TB`` are powers of
1000, ``KiB MiB GiB TiB`` of 1024; none: bytes); other resources are plain numbers.
"""

from __future__ import annotations

import math
import re
from typing import Any

from jupyter_mlops.errors import PipelineError

_UNITS = {
    "": 1,
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}
_AMOUNT = re.compile(r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([A-Za-z]*)\s*")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")


def parse_resources(spec: Any, what: str, where: str | None = None) -> dict[str, float]:
    """``{cpu: 2, memory: 4GB}`` or ``"cpu=2,memory=4GB"`` → ``{"cpu": 2.0, "memory": 4e9}``;
    ``PipelineError`` naming ``what`` (and the resource) when something is wrong."""
    if isinstance(spec, str):
        pairs = [item.partition("=") for item in spec.split(",") if item.strip()]
        if any(not sep for _, sep, _ in pairs):
            raise PipelineError(
                f"{what}: write name=amount pairs, like cpu=2,memory=4GB", path=where
            )
        spec = {name.strip(): amount.strip() for name, _, amount in pairs}
    if not isinstance(spec, dict) or not spec:
        raise PipelineError(f"{what}: give amounts, like {{cpu: 2, memory: 4GB}}", path=where)
    amounts: dict[str, float] = {}
    for name, amount in spec.items():
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise PipelineError(f"{what}: '{name}' is not a resource name", path=where)
        amounts[name] = _amount(name, amount, what, where)
    return amounts


def plain_amounts(amounts: dict[str, float]) -> dict[str, int | float]:
    """``amounts`` sorted by name, whole numbers as ints: how pipeline.yaml writes them."""
    return {name: int(v) if v.is_integer() else v for name, v in sorted(amounts.items())}


def _amount(name: str, amount: Any, what: str, where: str | None) -> float:
    if isinstance(amount, bool):
        amount = str(amount)
    if isinstance(amount, int | float):
        value = float(amount)
    else:
        match = _AMOUNT.fullmatch(str(amount))
        unit = match.group(2).lower() if match else "?"
        if match is None or unit not in _UNITS or (unit and name != "memory"):
            raise PipelineError(
                f"{what}.{name}: '{amount}' is not an amount"
                + (" (memory units: KB MB GB TB KiB MiB GiB TiB)" if name == "memory" else ""),
                name=name,
                path=where,
            )
        value = float(match.group(1)) * _UNITS[unit]
    if value <= 0:
        raise PipelineError(f"{what}.{name}: the amount must be positive", name=name, path=where)
    if not math.isfinite(value):
        raise PipelineError(
            f"{what}.{name}: '{amount}' is not a finite amount", name=name, path=where
        )
    return value
