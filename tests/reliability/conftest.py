"""The reliability suite's figures: what each fault or fuzz scenario tried and what came out.

Tests add counts with the ``figures`` fixture (``figures.add("scenario", trials=1,
lost_registrations=0)``; counts of one scenario add up). When
``JUPYTER_MLOPS_RELIABILITY_FIGURES`` names a file, the totals are written there as JSON at
the end of the session; ``make reliability-table`` runs the long suite and renders them into
the README's reliability table (``benchmarks/reliability_table.py``).
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

FIGURES_FILE = "JUPYTER_MLOPS_RELIABILITY_FIGURES"
ROUNDS = int(os.environ.get("JUPYTER_MLOPS_RELIABILITY_ROUNDS", "3"))


class Figures:
    """Counts per scenario, in the order scenarios were first seen."""

    def __init__(self) -> None:
        self.counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def add(self, scenario: str, **counts: int) -> None:
        for name, count in counts.items():
            self.counts[scenario][name] += count

    def as_json(self) -> dict[str, dict[str, int]]:
        return {scenario: dict(counts) for scenario, counts in self.counts.items()}


@pytest.fixture(scope="session")
def figures() -> Iterator[Figures]:
    collected = Figures()
    yield collected
    target = os.environ.get(FIGURES_FILE)
    if target:
        path = Path(target)
        previous = json.loads(path.read_text()) if path.exists() else {}
        path.write_text(json.dumps({**previous, **collected.as_json()}, indent=1) + "\n")


@pytest.fixture(scope="session")
def rounds() -> int:
    """How many times fault scenarios repeat (``JUPYTER_MLOPS_RELIABILITY_ROUNDS``, 3 in
    ``make test``, 20 in ``make reliability-table``)."""
    return ROUNDS
