"""A rollout's analysis: the checks of one window of a service's per-version statistics.

A window is the difference of two ``/stats`` snapshots (``metrics_snapshot.snapshot_difference``).
The analysed version (the candidate) is checked against the target's thresholds: its share
of server errors (5xx) ``error_rate``, its latency ``p99_ms``, and ``prediction_drift``, the
Jensen–Shannon distance (base 2, 0 = same, 1 = disjoint) between its prediction distribution
and the reference version's (the stable one) over the same window. A window where the
candidate answered fewer than ``min_requests`` requests fails check ``requests``: too little
traffic to judge. A check whose value cannot be computed (no reference predictions) passes
with value None and says why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from jupyter_mlops.deploy.targets import Analysis

REQUESTS = "requests"
ERROR_RATE = "error_rate"
P99_MS = "p99_ms"
PREDICTION_DRIFT = "prediction_drift"
FEEDBACK_P_VALUE = "feedback_p_value"
MINIMUM_CHECKS = frozenset({REQUESTS, "rows"})  # a threshold that is a minimum (batch: rows)


@dataclass(frozen=True)
class Check:
    """One check of one window: ``value`` against ``threshold`` (a maximum, or for
    ``requests`` a minimum)."""

    name: str
    value: float | None
    threshold: float | None
    passed: bool
    detail: str = ""

    def describe(self) -> str:
        """E.g. ``p99_ms 251.3 > 100 (max)``."""
        if self.value is None:
            return f"{self.name}: {self.detail or 'not measured'}"
        relation = _relation(self)
        text = f"{self.name} {_number(self.value)} {relation} {_number(self.threshold)}"
        return f"{text} ({self.detail})" if self.detail else text

    def to_json(self) -> dict[str, Any]:
        """The check as JSON."""
        return {
            "name": self.name,
            "value": self.value,
            "threshold": self.threshold,
            "passed": self.passed,
            "detail": self.detail,
        }


def _relation(check: Check) -> str:
    if check.name in MINIMUM_CHECKS:
        return "≥" if check.passed else "<"
    if check.name == FEEDBACK_P_VALUE:  # a significance level: small is significant
        return "<" if (check.value or 0) < (check.threshold or 0) else "≥"
    return "≤" if check.passed else ">"


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


@dataclass(frozen=True)
class WindowAnalysis:
    """The checks of ``version`` over one window (``reference``: the version compared with)."""

    version: str
    reference: str | None
    checks: tuple[Check, ...]

    @property
    def passed(self) -> bool:
        """Whether every check passed."""
        return all(check.passed for check in self.checks)

    def failed(self) -> list[Check]:
        """The checks that failed."""
        return [check for check in self.checks if not check.passed]

    def to_json(self) -> dict[str, Any]:
        """The analysis as JSON."""
        return {
            "version": self.version,
            "reference": self.reference,
            "passed": self.passed,
            "checks": [check.to_json() for check in self.checks],
        }


def analyse_window(
    window: dict[str, Any],
    version: str,
    settings: Analysis,
    reference: str | None = None,
    reference_window: dict[str, Any] | None = None,
) -> WindowAnalysis:
    """The checks of ``version`` over ``window`` (a snapshot difference); prediction drift
    against ``reference``'s predictions in ``reference_window`` (default: ``window``)."""
    entry = version_entry(window, version)
    checks = [requests_check(entry, settings.min_requests)]
    checks += health_checks(entry, settings)
    if settings.max_prediction_drift is not None:
        other = None
        if reference is not None:
            other = version_entry(reference_window or window, reference)
        checks.append(drift_check(entry, other, settings.max_prediction_drift))
    return WindowAnalysis(version, reference, tuple(checks))


def version_entry(window: dict[str, Any], version: str) -> dict[str, Any] | None:
    """``version``'s statistics in a snapshot (None when it answered nothing)."""
    entry = window.get("versions", {}).get(str(version))
    return entry if isinstance(entry, dict) else None


def requests_check(entry: dict[str, Any] | None, minimum: int) -> Check:
    """Enough requests to judge: at least ``minimum``."""
    count = entry["requests"] if entry else 0
    return Check(REQUESTS, count, minimum, count >= minimum)


def health_checks(entry: dict[str, Any] | None, settings: Analysis) -> list[Check]:
    """Error rate and, when a maximum is set, p99 latency."""
    rate = entry["error_rate"] if entry else 0.0
    checks = [Check(ERROR_RATE, rate, settings.max_error_rate, rate <= settings.max_error_rate)]
    if settings.max_p99_ms is not None:
        p99 = entry.get("p99_ms") if entry else None
        if p99 is None:
            checks.append(Check(P99_MS, None, settings.max_p99_ms, True, "no request answered"))
        else:
            checks.append(Check(P99_MS, p99, settings.max_p99_ms, p99 <= settings.max_p99_ms))
    return checks


def drift_check(
    entry: dict[str, Any] | None, reference: dict[str, Any] | None, maximum: float
) -> Check:
    """The Jensen–Shannon distance between the two versions' prediction distributions."""
    ours = prediction_distribution(entry)
    theirs = prediction_distribution(reference)
    if not sum(ours.values()) or not sum(theirs.values()):
        side = "the candidate" if not sum(ours.values()) else "the reference version"
        return Check(PREDICTION_DRIFT, None, maximum, True, f"no predictions of {side} to compare")
    distance = js_distance(ours, theirs)
    return Check(PREDICTION_DRIFT, distance, maximum, distance <= maximum)


def prediction_distribution(entry: dict[str, Any] | None) -> dict[str, int]:
    """Counts per prediction class: each label, ``other labels``, each float bin."""
    if not entry:
        return {}
    predictions = entry.get("predictions") or {}
    counts = {f"label {k}": int(n) for k, n in (predictions.get("labels") or {}).items() if n}
    if predictions.get("other_labels"):
        counts["other labels"] = int(predictions["other_labels"])
    bins = (predictions.get("values") or {}).get("bins") or []
    counts.update({f"bin {i}": int(n) for i, n in enumerate(bins) if n})
    return counts


def js_distance(left: dict[str, int], right: dict[str, int]) -> float:
    """Jensen–Shannon distance (base 2) of two count distributions, in [0, 1]."""
    left_total, right_total = sum(left.values()), sum(right.values())
    divergence = 0.0
    for key in set(left) | set(right):
        p = left.get(key, 0) / left_total
        q = right.get(key, 0) / right_total
        m = (p + q) / 2
        if p:
            divergence += p * math.log2(p / m) / 2
        if q:
            divergence += q * math.log2(q / m) / 2
    return math.sqrt(min(max(divergence, 0.0), 1.0))


def version_summary(window: dict[str, Any], version: str) -> dict[str, Any]:
    """What one version did in a window: requests, errors, latency, predictions, and as a
    shadow, how many copies it answered and the share that differed from the served answer."""
    entry = version_entry(window, version) or {}
    shadow = entry.get("shadow") or {}
    return {
        "version": str(version),
        "requests": entry.get("requests", 0),
        "errors": entry.get("errors", 0),
        "error_rate": entry.get("error_rate", 0.0),
        "p50_ms": entry.get("p50_ms"),
        "p99_ms": entry.get("p99_ms"),
        "predictions": prediction_distribution(entry),
        "shadow_requests": shadow.get("requests", 0),
        "shadow_mismatch_rate": shadow.get("mismatch_rate", 0.0),
    }


def windows_to_rollback(failed_windows: int, settings: Analysis) -> bool:
    """Whether ``failed_windows`` failed windows reach the failure limit."""
    return failed_windows >= settings.failure_limit
