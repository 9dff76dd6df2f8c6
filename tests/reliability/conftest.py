"""The reliability suite's figures: what each fault or fuzz scenario tried and what came out.

Tests add counts with the ``figures`` fixture (``figures.add("scenario", trials=1,
lost_registrations=0)``; counts of one scenario add up), or are counted whole by the
``figure(scenario)`` mark (cases, failed). When
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
from typing import Any

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


FIGURES = Figures()


@pytest.fixture(scope="session")
def figures() -> Figures:
    return FIGURES


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "figure(scenario): count this test's outcome under scenario in the table"
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    """Tests marked ``figure(scenario)`` count as cases, passed or failed, of that scenario."""
    report = yield
    marker = item.get_closest_marker("figure")
    if marker is not None and report.when == "call":
        FIGURES.add(marker.args[0], cases=1, failed=int(report.failed))
    return report


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Write the figures where ``JUPYTER_MLOPS_RELIABILITY_FIGURES`` says (merged with the
    scenarios already there)."""
    target = os.environ.get(FIGURES_FILE)
    if target and FIGURES.counts:
        path = Path(target)
        previous = json.loads(path.read_text()) if path.exists() else {}
        path.write_text(json.dumps({**previous, **FIGURES.as_json()}, indent=1) + "\n")


@pytest.fixture(scope="session")
def rounds() -> int:
    """How many times fault scenarios repeat (``JUPYTER_MLOPS_RELIABILITY_ROUNDS``, 3 in
    ``make test``, 20 in ``make reliability-table``)."""
    return ROUNDS
