"""Checks of single settings of a deploy target, shared by every kind's parser: each
returns the value or raises ``DeployError`` naming the key path (``deploy.prod.interval``).
``common_settings`` reads the keys every kind has."""

from __future__ import annotations

import math
import re
from typing import Any, TypedDict

from jupyter_mlops.errors import DeployError

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
HEADER = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+")
URL = re.compile(r"https?://[^\s/?#]+(/[^\s?#]*)?")


class CommonSettings(TypedDict):
    """The settings every kind of target has, as its dataclass's keyword arguments."""

    model: str | None  # the registered model; None: the pipeline's one model
    alias: str  # the alias the deployed version holds (default: production)
    auto: bool  # deploy after a validated run (default: false)


def common_settings(settings: dict[str, Any], where: str) -> CommonSettings:
    """``model``, ``alias`` and ``auto`` of a target's ``settings``, checked."""
    return CommonSettings(
        alias=identifier(settings.get("alias", "production"), f"{where}.alias"),
        auto=boolean(settings.get("auto", False), f"{where}.auto"),
        model=text(settings.get("model"), f"{where}.model"),
    )


def duration(value: Any, where: str) -> float:
    """``30s`` / ``500ms`` / ``2m`` / ``1h`` / a number of seconds → seconds (> 0)."""
    from jupyter_mlops.deploy.serving.config import parse_duration

    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise fail(where, f"must be a duration (e.g. 30s, 2m), not {value!r}")
    try:
        seconds = parse_duration(str(value), where)
    except DeployError:
        raise fail(where, f"must be a duration (e.g. 30s, 2m), not {value!r}") from None
    if seconds <= 0:
        raise fail(where, f"must be longer than 0, not {value!r}")
    return seconds


def fraction(data: dict[str, Any], key: str, where: str, default: float | None) -> Any:
    value = data.get(key, default)
    if value is None:
        return None
    if not is_number(value) or not 0 <= value <= 1:
        raise fail(f"{where}.{key}", f"must be a number from 0 to 1, not {value!r}")
    return float(value)


def positive(data: dict[str, Any], key: str, where: str) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    if not is_number(value) or value <= 0:
        raise fail(f"{where}.{key}", f"must be a number above 0, not {value!r}")
    return float(value)


def count(data: dict[str, Any], key: str, where: str, default: int, least: int) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise fail(f"{where}.{key}", f"must be an integer ≥ {least}, not {value!r}")
    return value


def is_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)


def identifier(value: Any, where: str) -> str:
    if not isinstance(value, str) or not NAME.fullmatch(value):
        raise fail(where, f"must be a name (letters, digits, '_' and '-'), not {value!r}")
    return value


def optional_identifier(value: Any, where: str) -> str | None:
    return None if value is None else identifier(value, where)


def text(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise fail(where, f"must be a non-empty string, not {value!r}")
    return value


def header(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not HEADER.fullmatch(value):
        raise fail(where, f"must be an HTTP header name, not {value!r}")
    return value.lower()


def boolean(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise fail(where, f"must be true or false, not {value!r}")
    return value


def known_keys(data: dict[str, Any], where: str, allowed: tuple[str, ...]) -> None:
    for key in data:
        if key not in allowed:
            raise fail(f"{where}.{key}", f"is unknown (expected one of: {', '.join(allowed)})")


def fail(where: str, problem: str) -> DeployError:
    return DeployError(f"{where} {problem}", name=where)
