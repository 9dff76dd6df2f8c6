"""A Dockerfile as (instruction, arguments) pairs, continuation lines joined, comments
and blank lines left out."""

from __future__ import annotations

import re
from pathlib import Path


def instructions(path: Path) -> list[tuple[str, str]]:
    text = re.sub(r"\\\n\s*", " ", path.read_text(encoding="utf-8"))
    pairs = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            instruction, _, rest = line.strip().partition(" ")
            pairs.append((instruction, rest))
    return pairs


def env_of(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """The ENV settings."""
    env: dict[str, str] = {}
    for instruction, rest in pairs:
        if instruction == "ENV":
            for item in rest.split():
                key, _, value = item.partition("=")
                env[key] = value
    return env
