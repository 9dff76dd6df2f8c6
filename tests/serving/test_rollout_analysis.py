"""A rollout's analysis on windows of the service's own metrics (``ServiceMetrics`` snapshots
and their difference), without a service: error rate, p99, prediction drift, too little
traffic, the failure limit."""

from __future__ import annotations

import math
from typing import Any

import pytest

from jupyter_mlops.deploy.rollout.analysis import (
    Check,
    analyse_window,
    js_distance,
    prediction_distribution,
    version_summary,
    windows_to_rollback,
)
from jupyter_mlops.deploy.serving.metrics import ServiceMetrics
from jupyter_mlops.deploy.targets import Analysis

SETTINGS = Analysis(
    max_error_rate=0.05, max_p99_ms=100, max_prediction_drift=0.2, failure_limit=2, min_requests=10
)


def answered(
    metrics: ServiceMetrics,
    version: str,
    labels: list[int],
    seconds: float = 0.002,
    failures: int = 0,
) -> None:
    """``version`` answers one request per label, then ``failures`` requests with a 500."""
    for label in labels:
        metrics.observe(version, 200, seconds)
        metrics.observe_predictions(version, [label])
    for _ in range(failures):
        metrics.observe(version, 500, seconds)


def window(fill: Any) -> dict[str, Any]:
    """The difference of two snapshots around ``fill(metrics)`` (traffic before it excluded)."""
    metrics = ServiceMetrics("m")
    answered(metrics, "3", [0, 1, 2] * 20)
    answered(metrics, "4", [0] * 60)  # before the window: not analysed
    before = metrics.snapshot()
    fill(metrics)
    return metrics.since(before)


def test_a_candidate_like_the_stable_version_passes() -> None:
    def fill(metrics: ServiceMetrics) -> None:
        answered(metrics, "3", [0, 1, 2] * 30)
        answered(metrics, "4", [0, 1, 2] * 10)

    analysis = analyse_window(window(fill), "4", SETTINGS, "3")
    assert analysis.passed
    values = {check.name: check.value for check in analysis.checks}
    assert values["requests"] == 30 and values["error_rate"] == 0.0
    assert values["prediction_drift"] == 0.0
    assert values["p99_ms"] is not None and values["p99_ms"] <= 2.5


def test_server_errors_fail_the_error_rate() -> None:
    def fill(metrics: ServiceMetrics) -> None:
        answered(metrics, "3", [0, 1, 2] * 10)
        answered(metrics, "4", [0, 1, 2] * 6, failures=2)

    analysis = analyse_window(window(fill), "4", SETTINGS, "3")
    [failed] = analysis.failed()
    assert (failed.name, failed.value, failed.threshold) == ("error_rate", 0.1, 0.05)
    assert failed.describe() == "error_rate 0.1 > 0.05"


def test_slow_answers_fail_the_p99() -> None:
    def fill(metrics: ServiceMetrics) -> None:
        answered(metrics, "3", [0, 1, 2] * 10)
        answered(metrics, "4", [0, 1, 2] * 10, seconds=0.3)

    [failed] = analyse_window(window(fill), "4", SETTINGS, "3").failed()
    assert failed.name == "p99_ms" and failed.value is not None and failed.value > 250


def test_constant_predictions_fail_the_drift_check() -> None:
    def fill(metrics: ServiceMetrics) -> None:
        answered(metrics, "3", [0, 1, 2] * 10)
        answered(metrics, "4", [1] * 30)

    [failed] = analyse_window(window(fill), "4", SETTINGS, "3").failed()
    assert failed.name == "prediction_drift"
    assert failed.value == pytest.approx(js_distance({"a": 1}, {"a": 1, "b": 1, "c": 1}))


def test_too_few_requests_fail_the_window() -> None:
    def fill(metrics: ServiceMetrics) -> None:
        answered(metrics, "3", [0, 1, 2] * 10)
        answered(metrics, "4", [0, 1, 2])

    [failed] = analyse_window(window(fill), "4", SETTINGS, "3").failed()
    assert (failed.name, failed.value, failed.threshold) == ("requests", 3, 10)
    assert failed.describe() == "requests 3 < 10"


def test_a_candidate_without_traffic_fails_and_nothing_else_is_judged() -> None:
    analysis = analyse_window(window(lambda metrics: None), "4", SETTINGS, "3")
    assert [check.name for check in analysis.failed()] == ["requests"]
    drift = next(check for check in analysis.checks if check.name == "prediction_drift")
    assert drift.value is None and "no predictions of the candidate" in drift.describe()


def test_drift_compares_with_a_reference_window_when_given() -> None:
    """Blue-green: the stable version has no traffic in the window, so its predictions come
    from another window (all it answered)."""

    def fill(metrics: ServiceMetrics) -> None:
        answered(metrics, "4", [0, 1, 2] * 10)

    metrics_window = window(fill)
    alone = analyse_window(metrics_window, "4", SETTINGS, "3")
    drift = next(check for check in alone.checks if check.name == "prediction_drift")
    assert drift.value is None and "reference version" in drift.detail
    reference = {"versions": {"3": {"predictions": {"labels": {"0": 5, "1": 5, "2": 5}}}}}
    compared = analyse_window(metrics_window, "4", SETTINGS, "3", reference)
    assert compared.passed
    assert next(c.value for c in compared.checks if c.name == "prediction_drift") == 0.0


def test_float_predictions_compare_by_their_shared_bins() -> None:
    metrics = ServiceMetrics("m", prediction_edges=[0.0, 1.0, 2.0])
    before = metrics.snapshot()
    for value in (-0.5, 0.5, 1.5, 2.5) * 5:
        metrics.observe("3", 200, 0.001)
        metrics.observe_predictions("3", [value])
        metrics.observe("4", 200, 0.001)
        metrics.observe_predictions("4", [value + 10])
    result = metrics.since(before)
    assert prediction_distribution(result["versions"]["4"]) == {"bin 3": 20}
    [failed] = analyse_window(result, "4", SETTINGS, "3").failed()
    assert failed.name == "prediction_drift"
    assert failed.value == pytest.approx(js_distance({"a": 1}, {"a": 1, "b": 1, "c": 1, "d": 1}))


def test_js_distance_bounds_and_a_known_value() -> None:
    assert js_distance({"a": 3, "b": 1}, {"a": 6, "b": 2}) == 0.0
    assert js_distance({"a": 1}, {"b": 7}) == pytest.approx(1.0)
    # P = (1, 0, 0), Q uniform: JSD = ½·log2(3/2) + ½·(⅓·log2(½) + ⅔·log2(2)) in bits
    expected = math.sqrt(0.5 * math.log2(1.5) + 0.5 * (-1 / 3 + 2 / 3))
    assert js_distance({"a": 1}, {"a": 1, "b": 1, "c": 1}) == pytest.approx(expected)


def test_checks_left_unset_are_not_made() -> None:
    def fill(metrics: ServiceMetrics) -> None:
        answered(metrics, "4", [1] * 12, seconds=1.0)

    analysis = analyse_window(window(fill), "4", Analysis(min_requests=5), "3")
    assert [check.name for check in analysis.checks] == ["requests", "error_rate"]
    assert analysis.passed


def test_failure_limit_counts_failed_windows() -> None:
    assert not windows_to_rollback(1, SETTINGS)
    assert windows_to_rollback(2, SETTINGS)
    assert windows_to_rollback(1, Analysis())


def test_version_summary_of_a_window() -> None:
    def fill(metrics: ServiceMetrics) -> None:
        answered(metrics, "4", [0, 1] * 5, failures=1)

    summary = version_summary(window(fill), "4")
    assert (summary["requests"], summary["errors"]) == (11, 1)
    assert summary["predictions"] == {"label 0": 5, "label 1": 5}
    assert version_summary(window(fill), "9")["requests"] == 0


def test_check_descriptions() -> None:
    assert Check("p99_ms", 251.25, 100.0, False).describe() == "p99_ms 251.2 > 100"
    assert Check("requests", 12, 10, True).describe() == "requests 12 ≥ 10"
    assert Check("smoke", None, None, False, "answered 500").describe() == "smoke: answered 500"
