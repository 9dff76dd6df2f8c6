"""Small readers and formatters of a monitor result shared by the report's sections."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from html import escape
from typing import Any

from jupyter_mlops.monitor.svg_charts import finite, fmt

TEST_NAMES = {
    "ks": "Kolmogorov–Smirnov",
    "chi2": "chi-squared",
    "z": "Z-test (proportions)",
    "wasserstein": "Wasserstein (normed)",
    "jensenshannon": "Jensen–Shannon",
    "psi": "PSI",
}


def windows_of(result: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The result's windows, oldest first."""
    windows = list(result.get("windows") or [])
    return sorted(windows, key=lambda w: str(w.get("start") or ""))


def window_label(value: object, with_year: bool = False) -> str:
    """An ISO time as ``MM-DD HH:MM`` (``YYYY-MM-DD HH:MM`` with ``with_year``), in UTC."""
    if value is None:
        return "n/a"
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M" if with_year else "%m-%d %H:%M")


def drift_columns(window: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The per-column drift records of one window."""
    drift = window.get("drift") or {}
    return [c for c in drift.get("columns") or [] if isinstance(c, Mapping)]


def feature_row_order(columns: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Drifted columns first, each group by column name."""
    return sorted(columns, key=lambda c: (not c.get("drifted"), str(c.get("column"))))


def version_key(version: object) -> tuple[int, int, str]:
    """Sort key putting numeric versions in numeric order, before any other."""
    text = str(version)
    return (0, int(text), "") if text.isdigit() else (1, 0, text)


def percent(value: object, decimals: int = 0) -> str:
    """A share as a percentage, ``n/a`` when missing."""
    number = finite(value)
    return "n/a" if number is None else f"{number * 100:.{decimals}f}%"


def threshold_text(column: Mapping[str, Any]) -> str:
    """When this column counts as drifted, in words."""
    threshold = fmt(column.get("threshold"))
    if column.get("p_value") is not None:
        return f"p-value &lt; {threshold}"
    return f"statistic ≥ {threshold}"


def drift_cell(drifted: object) -> str:
    """An icon and a word, never colour alone."""
    if drifted is None:
        return "<span class='flag'>n/a</span>"
    if drifted:
        return "<span class='flag drifted'>⚠ drifted</span>"
    return "<span class='flag stable'>✓ no</span>"


def test_name(test: object) -> str:
    """The readable name of a statistical test, escaped."""
    name = TEST_NAMES.get(str(test), "n/a" if test is None else str(test))
    return escape(name)
