"""An A/B test's outcome metric from feedback labels: the service's real request log and
feedback files (written by ``RequestLog`` and ``FeedbackStore``), read back for one window,
scored per version with a confidence interval and a significance test."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from jupyter_mlops.deploy.rollout.feedback_metric import (
    compare_feedback,
    feedback_check,
    window_feedback,
)
from jupyter_mlops.deploy.serving.feedback import FeedbackStore
from jupyter_mlops.deploy.serving.request_log import RequestLog

MODEL = "m"
START = 1_800_000_000.0


def write_answers(
    folder: Path, answers: list[tuple[str, float, str, Any, Any, str | None]]
) -> None:
    """Log (request id, time, version, prediction, label, shadow_of) and send each label."""
    log = RequestLog(folder, MODEL)
    for request_id, when, version, prediction, _, shadow_of in answers:
        log.log(
            request_id, when, version, ("x",), [[1.0]], np.array([prediction]), 0.001, shadow_of
        )
    log.close()
    FeedbackStore(folder, MODEL).add([(a[0], a[4]) for a in answers if a[5] is None])


def classified(version: str, n: int, correct: int, offset: int = 0) -> list[Any]:
    """``n`` answers of ``version`` inside the window, ``correct`` of them right."""
    return [
        (
            f"{version}-{i}",
            START + 1 + (i + offset) * 0.01,
            version,
            1,
            1 if i < correct else 0,
            None,
        )
        for i in range(n)
    ]


def test_a_worse_candidate_is_significantly_worse(tmp_path: Path) -> None:
    outside = ("late", START + 100, "2", 1, 1, None)  # after the window: left out
    shadow = ("s-1", START + 2, "2", 1, 0, "1")  # a shadow answer: never returned, left out
    write_answers(
        tmp_path, [*classified("1", 200, 180), *classified("2", 200, 120), outside, shadow]
    )
    labelled = window_feedback(str(tmp_path), MODEL, START, START + 50)
    assert len(labelled) == 400
    comparison = compare_feedback(labelled, "1", "2")
    assert comparison is not None and comparison.metric == "accuracy"
    assert (comparison.stable.value, comparison.candidate.value) == (0.9, 0.6)
    assert comparison.difference.value == pytest.approx(-0.3)
    assert comparison.difference.low < -0.3 < comparison.difference.high < 0
    assert comparison.p_value < 1e-6 and comparison.candidate_worse
    check = feedback_check(comparison, 0.05, 10)
    assert not check.passed and check.name == "feedback_p_value"
    assert "accuracy: candidate 0.6 [" in check.detail and "candidate worse" in check.detail


def test_an_equal_or_better_candidate_passes(tmp_path: Path) -> None:
    write_answers(tmp_path, [*classified("1", 100, 80), *classified("2", 100, 95, 100)])
    comparison = compare_feedback(
        window_feedback(str(tmp_path), MODEL, START, START + 50), "1", "2"
    )
    assert comparison is not None and not comparison.candidate_worse
    assert comparison.p_value < 0.05  # significantly better: passes
    assert feedback_check(comparison, 0.05, 10).passed


def test_a_small_difference_is_not_significant(tmp_path: Path) -> None:
    write_answers(tmp_path, [*classified("1", 40, 36), *classified("2", 40, 34, 40)])
    comparison = compare_feedback(
        window_feedback(str(tmp_path), MODEL, START, START + 50), "1", "2"
    )
    assert comparison is not None and comparison.candidate_worse
    check = feedback_check(comparison, 0.05, 10)
    assert check.passed and check.value is not None and check.value > 0.05
    assert check.describe().startswith("feedback_p_value 0.") and " ≥ 0.05 " in check.describe()


def test_float_predictions_compare_absolute_errors(tmp_path: Path) -> None:
    answers = [(f"a{i}", START + 1, "1", 10.0 + (i % 3) * 0.1, 10.0, None) for i in range(60)]
    answers += [(f"b{i}", START + 1, "2", 12.0 + (i % 3) * 0.1, 10.0, None) for i in range(60)]
    write_answers(tmp_path, answers)
    comparison = compare_feedback(
        window_feedback(str(tmp_path), MODEL, START, START + 50), "1", "2"
    )
    assert comparison is not None and comparison.metric == "absolute_error"
    assert comparison.stable.value == pytest.approx(0.1)
    assert comparison.difference.value == pytest.approx(2.0)
    assert not comparison.higher_is_better and comparison.candidate_worse
    assert not feedback_check(comparison, 0.05, 10).passed


def test_without_enough_labels_the_check_is_not_made(tmp_path: Path) -> None:
    assert feedback_check(None, 0.05, 10).passed
    write_answers(tmp_path, [*classified("1", 5, 5), *classified("2", 5, 0, 5)])
    labelled = window_feedback(str(tmp_path), MODEL, START, START + 50)
    check = feedback_check(compare_feedback(labelled, "1", "2"), 0.05, 10)
    assert check.passed and check.value is None and "5 labelled answers" in check.detail
    assert window_feedback(str(tmp_path / "none"), MODEL, START, START + 50).empty
