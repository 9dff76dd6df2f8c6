"""An A/B test's outcome metric: each version's answers scored against the labels sent to the
service's ``POST /feedback``, with a 95 % confidence interval and a significance test.

The labelled answers are the request log rows of the window joined to their feedback
(``deploy/serving/feedback.joined``), read from the service's ``--log-dir`` (the target's
``log_dir``); the log is written in rotated files, so rows of the window's last minute may
not be there yet. Class predictions (labels, integers, booleans) are scored by ``accuracy``
(two-proportion z-test), float predictions by ``absolute_error`` (lower is better; Welch's
t-test, normal approximation). The check fails when the candidate is worse than the stable
version with a p-value under ``alpha``; with fewer than ``min_labels`` labelled answers per
version it is not made.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from jupyter_mlops.deploy.rollout.analysis import FEEDBACK_P_VALUE as FEEDBACK_CHECK
from jupyter_mlops.deploy.rollout.analysis import Check

Z95 = 1.959963984540054
ACCURACY = "accuracy"
ABSOLUTE_ERROR = "absolute_error"


@dataclass(frozen=True)
class Estimate:
    """A metric's value over ``n`` answers, with its 95 % confidence interval."""

    value: float
    low: float
    high: float
    n: int

    def describe(self) -> str:
        """E.g. ``0.93 [0.9, 0.96] (n=200)``."""
        return f"{self.value:.4g} [{self.low:.4g}, {self.high:.4g}] (n={self.n})"

    def to_json(self) -> dict[str, Any]:
        """The estimate as JSON."""
        return {"value": self.value, "low": self.low, "high": self.high, "n": self.n}


@dataclass(frozen=True)
class FeedbackComparison:
    """The candidate's metric against the stable version's."""

    metric: str
    stable: Estimate
    candidate: Estimate
    difference: Estimate  # candidate − stable
    p_value: float
    higher_is_better: bool

    @property
    def candidate_worse(self) -> bool:
        """Whether the candidate scored worse (significant or not)."""
        worse = self.difference.value < 0
        return worse if self.higher_is_better else self.difference.value > 0

    def to_json(self) -> dict[str, Any]:
        """The comparison as JSON."""
        return {
            "metric": self.metric,
            "stable": self.stable.to_json(),
            "candidate": self.candidate.to_json(),
            "difference": self.difference.to_json(),
            "p_value": self.p_value,
            "higher_is_better": self.higher_is_better,
        }


def window_feedback(log_dir: str, model: str, start: float, end: float) -> Any:
    """The labelled answers (``model_version``, ``prediction``, ``label``) of requests
    answered between epoch seconds ``start`` and ``end``, shadow answers left out."""
    import pandas

    from jupyter_mlops.deploy.serving.feedback import joined

    rows = joined(log_dir, model)
    if rows.empty:
        return pandas.DataFrame(columns=["model_version", "prediction", "label"])
    times = pandas.to_datetime(rows["time"], utc=True)
    inside = (times >= pandas.Timestamp(start, unit="s", tz="UTC")) & (
        times < pandas.Timestamp(end, unit="s", tz="UTC")
    )
    served = rows["shadow_of"].isna() if "shadow_of" in rows else True
    return rows.loc[inside & served, ["model_version", "prediction", "label"]]


def compare_feedback(labelled: Any, stable: str, candidate: str) -> FeedbackComparison | None:
    """The comparison of the two versions' labelled answers; None when one has none."""
    groups = {
        version: labelled[labelled["model_version"].astype(str) == version]
        for version in (stable, candidate)
    }
    if any(group.empty for group in groups.values()):
        return None
    if _is_float(labelled["prediction"]):
        return _compare_errors(groups[stable], groups[candidate])
    return _compare_accuracy(groups[stable], groups[candidate])


def _is_float(predictions: Any) -> bool:
    return bool(getattr(predictions.dtype, "kind", "O") == "f")


def _compare_accuracy(stable: Any, candidate: Any) -> FeedbackComparison:
    s_hits, s_n = _hits(stable), len(stable)
    c_hits, c_n = _hits(candidate), len(candidate)
    s_p, c_p = s_hits / s_n, c_hits / c_n
    spread = math.sqrt(s_p * (1 - s_p) / s_n + c_p * (1 - c_p) / c_n)
    pooled = (s_hits + c_hits) / (s_n + c_n)
    pooled_se = math.sqrt(pooled * (1 - pooled) * (1 / s_n + 1 / c_n))
    difference = c_p - s_p
    z = difference / pooled_se if pooled_se else 0.0
    return FeedbackComparison(
        ACCURACY,
        _proportion(s_p, s_n),
        _proportion(c_p, c_n),
        Estimate(difference, difference - Z95 * spread, difference + Z95 * spread, c_n + s_n),
        _two_sided(z) if pooled_se else 1.0,
        higher_is_better=True,
    )


def _hits(group: Any) -> int:
    return sum(
        _same(p, label) for p, label in zip(group["prediction"], group["label"], strict=True)
    )


def _same(prediction: Any, label: Any) -> bool:
    if hasattr(prediction, "item"):
        prediction = prediction.item()
    if hasattr(label, "item"):
        label = label.item()
    return bool(prediction == label) or str(prediction) == str(label)


def _proportion(p: float, n: int) -> Estimate:
    half = Z95 * math.sqrt(p * (1 - p) / n)
    return Estimate(p, max(0.0, p - half), min(1.0, p + half), n)


def _compare_errors(stable: Any, candidate: Any) -> FeedbackComparison:
    s_errors = _absolute_errors(stable)
    c_errors = _absolute_errors(candidate)
    s_mean, s_var = _mean_variance(s_errors)
    c_mean, c_var = _mean_variance(c_errors)
    spread = math.sqrt(s_var / len(s_errors) + c_var / len(c_errors))
    difference = c_mean - s_mean
    z = difference / spread if spread else 0.0
    return FeedbackComparison(
        ABSOLUTE_ERROR,
        _mean_estimate(s_mean, s_var, len(s_errors)),
        _mean_estimate(c_mean, c_var, len(c_errors)),
        Estimate(
            difference,
            difference - Z95 * spread,
            difference + Z95 * spread,
            len(s_errors) + len(c_errors),
        ),
        _two_sided(z) if spread else 1.0,
        higher_is_better=False,
    )


def _absolute_errors(group: Any) -> list[float]:
    return [
        abs(float(p) - float(label))
        for p, label in zip(group["prediction"], group["label"], strict=True)
    ]


def _mean_variance(values: list[float]) -> tuple[float, float]:
    mean = sum(values) / len(values)
    if len(values) < 2:
        return mean, 0.0
    return mean, sum((v - mean) ** 2 for v in values) / (len(values) - 1)


def _mean_estimate(mean: float, variance: float, n: int) -> Estimate:
    half = Z95 * math.sqrt(variance / n)
    return Estimate(mean, mean - half, mean + half, n)


def _two_sided(z: float) -> float:
    """The two-sided p-value of a standard normal statistic."""
    return math.erfc(abs(z) / math.sqrt(2))


def feedback_check(comparison: FeedbackComparison | None, alpha: float, min_labels: int) -> Check:
    """``feedback_p_value``: fails when the candidate is worse than the stable version with a
    p-value under ``alpha``; not made (passes, value None) without enough labels."""
    if comparison is None:
        return Check(FEEDBACK_CHECK, None, alpha, True, "no labelled answers of both versions")
    least = min(comparison.stable.n, comparison.candidate.n)
    if least < min_labels:
        detail = f"{least} labelled answers of a version, fewer than {min_labels}"
        return Check(FEEDBACK_CHECK, None, alpha, True, detail)
    verdict = "worse" if comparison.candidate_worse else "not worse"
    detail = (
        f"{comparison.metric}: candidate {comparison.candidate.describe()} vs stable "
        f"{comparison.stable.describe()}, difference {comparison.difference.describe()}: "
        f"candidate {verdict}"
    )
    failed = comparison.candidate_worse and comparison.p_value < alpha
    return Check(FEEDBACK_CHECK, comparison.p_value, alpha, not failed, detail)
