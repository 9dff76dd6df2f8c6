"""The ``monitor:`` section of pipeline.yaml: which drift test each column gets, thresholds,
the dataset-drift share, the default window and the performance-decay thresholds.

Every field is optional::

    monitor:
      stattest: ks                # force one test for every column; absent = Evidently's defaults
      stattest_threshold: 0.01    # its threshold (p-value, or distance for wasserstein/jensenshannon/psi)
      drift_share: 0.5            # the dataset drifts when >= this share of columns drift
      small_reference_rows: 1000  # reference rows <= this: ks/chi2/z; above: wasserstein/jensenshannon
      window: 1h                  # 30m, 1h, 1d, ...
      psi_bins: 10                # equal-width bins of numeric columns for PSI
      threads: 2                  # columns measured in parallel (0 = one per CPU, at most 8)
      decay: {accuracy: 0.9}      # a metric past its threshold fires "decay" (below it; above for rmse/mae)
      columns:
        age: {stattest: psi, threshold: 0.2, kind: numeric}
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from jupyter_mlops.errors import MonitorConfigError

STATTESTS = ("ks", "chi2", "z", "wasserstein", "jensenshannon", "psi")
P_VALUE_TESTS = frozenset({"ks", "chi2", "z"})
DEFAULT_THRESHOLDS = {
    "ks": 0.05,
    "chi2": 0.05,
    "z": 0.05,
    "wasserstein": 0.1,
    "jensenshannon": 0.1,
    "psi": 0.1,
}
KINDS = ("numeric", "categorical", "binary")
WINDOW_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_WINDOW = re.compile(r"^(\d+)([smhd])$")
_FIELDS = frozenset(
    {
        "stattest",
        "stattest_threshold",
        "columns",
        "drift_share",
        "small_reference_rows",
        "window",
        "psi_bins",
        "threads",
        "decay",
    }
)
_COLUMN_FIELDS = frozenset({"stattest", "threshold", "kind"})


@dataclass(frozen=True)
class ColumnSettings:
    """Per-column overrides: the test, its threshold, the column kind."""

    stattest: str | None = None
    threshold: float | None = None
    kind: str | None = None


@dataclass(frozen=True)
class MonitorSettings:
    """The ``monitor:`` section; see the module docstring for each field."""

    stattest: str | None = None
    stattest_threshold: float | None = None
    columns: Mapping[str, ColumnSettings] = field(default_factory=lambda: MappingProxyType({}))
    drift_share: float = 0.5
    small_reference_rows: int = 1000
    window: str = "1h"
    psi_bins: int = 10
    threads: int = 2
    decay: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))

    def column(self, name: str) -> ColumnSettings:
        """The overrides of column ``name`` (empty when it has none)."""
        return self.columns.get(name, ColumnSettings())

    @property
    def window_seconds(self) -> int:
        """The default window length in seconds."""
        return window_seconds(self.window)


def window_seconds(window: str) -> int:
    """Seconds of a window such as ``30m``, ``1h``, ``1d``; a bad one is a MonitorConfigError."""
    match = _WINDOW.match(window.strip()) if isinstance(window, str) else None
    if match is None or int(match.group(1)) == 0:
        raise _bad("monitor.window", f"must be a duration like 30m, 1h or 1d, not {window!r}")
    return int(match.group(1)) * WINDOW_UNITS[match.group(2)]


def monitor_settings(raw: Any, path: str = "pipeline.yaml") -> MonitorSettings:
    """Parse ``monitor:`` of the pipeline.yaml at ``path`` (absent = defaults); a malformed
    section is a ``MonitorConfigError`` naming the field."""
    try:
        return _settings(raw)
    except MonitorConfigError as error:
        raise MonitorConfigError(error.message, name=error.name, path=path) from None


def _settings(raw: Any) -> MonitorSettings:
    if raw is None:
        return MonitorSettings()
    if not isinstance(raw, dict):
        raise _bad("monitor", "must be a mapping of monitor settings")
    _no_unknown(raw, _FIELDS, "monitor")
    stattest = _stattest(raw.get("stattest"), "monitor.stattest")
    window = str(raw.get("window", "1h"))
    window_seconds(window)
    return MonitorSettings(
        stattest=stattest,
        stattest_threshold=_threshold(
            raw.get("stattest_threshold"), stattest, "monitor.stattest_threshold"
        ),
        columns=MappingProxyType(_columns(raw.get("columns"))),
        drift_share=_number(raw.get("drift_share", 0.5), "monitor.drift_share", 0.0, 1.0),
        small_reference_rows=_integer(
            raw.get("small_reference_rows", 1000), "monitor.small_reference_rows", 0
        ),
        window=window,
        psi_bins=_integer(raw.get("psi_bins", 10), "monitor.psi_bins", 2),
        threads=_integer(raw.get("threads", 2), "monitor.threads", 0),
        decay=MappingProxyType(_decay(raw.get("decay"))),
    )


def _columns(raw: Any) -> dict[str, ColumnSettings]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise _bad("monitor.columns", "must map column names to {stattest, threshold, kind}")
    columns = {}
    for name, entry in raw.items():
        where = f"monitor.columns.{name}"
        if not isinstance(entry, dict):
            raise _bad(where, "must be a mapping with stattest, threshold and/or kind")
        _no_unknown(entry, _COLUMN_FIELDS, where)
        stattest = _stattest(entry.get("stattest"), f"{where}.stattest")
        kind = entry.get("kind")
        if kind is not None and kind not in KINDS:
            raise _bad(f"{where}.kind", f"must be one of {', '.join(KINDS)}, not {kind!r}")
        threshold = _threshold(entry.get("threshold"), stattest, f"{where}.threshold")
        columns[str(name)] = ColumnSettings(stattest=stattest, threshold=threshold, kind=kind)
    return columns


def _decay(raw: Any) -> dict[str, float]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise _bad("monitor.decay", "must map metric names (accuracy, f1, rmse, ...) to thresholds")
    return {
        str(name): _number(value, f"monitor.decay.{name}", -math.inf, math.inf)
        for name, value in raw.items()
    }


def _stattest(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if value not in STATTESTS:
        raise _bad(where, f"must be one of {', '.join(STATTESTS)}, not {value!r}")
    return str(value)


def _threshold(value: Any, stattest: str | None, where: str) -> float | None:
    if value is None:
        return None
    if stattest in P_VALUE_TESTS:
        return _number(value, where, 0.0, 1.0)
    return _number(value, where, 0.0, math.inf)


def _number(value: Any, where: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise _bad(where, f"must be a number in [{low:g}, {high:g}], not {value!r}")
    return float(value)


def _integer(value: Any, where: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise _bad(where, f"must be an integer >= {low}, not {value!r}")
    return value


def _no_unknown(raw: dict[str, Any], known: frozenset[str], where: str) -> None:
    unknown = sorted(str(key) for key in set(raw) - known)
    if unknown:
        raise _bad(f"{where}.{unknown[0]}", f"is not a setting (known: {', '.join(sorted(known))})")


def _bad(field_name: str, problem: str) -> MonitorConfigError:
    return MonitorConfigError(f"field '{field_name}' {problem}", name=field_name)
