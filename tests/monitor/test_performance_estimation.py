"""Realised performance metrics, CBPE's estimate against realised accuracy, and histograms."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics

from jupyter_mlops.errors import MonitorDataError
from jupyter_mlops.monitor.cbpe import estimate_binary_performance
from jupyter_mlops.monitor.histograms import histogram
from jupyter_mlops.monitor.performance import classification_metrics, regression_metrics


def test_classification_metrics_equal_sklearn_and_skip_unlabelled_rows() -> None:
    labels = pd.Series(["a", "b", "b", None, "a", "b"])
    predictions = pd.Series(["a", "b", "a", "b", "a", "a"])
    proba = pd.DataFrame(
        {"a": [0.9, 0.2, 0.6, 0.3, 0.7, 0.55], "b": [0.1, 0.8, 0.4, 0.7, 0.3, 0.45]}
    )
    result = classification_metrics(labels, predictions, proba)
    kept = [0, 1, 2, 4, 5]
    truth, guessed = labels[kept].to_numpy(), predictions[kept].to_numpy()
    assert result["accuracy"] == pytest.approx(metrics.accuracy_score(truth, guessed))
    assert result["f1"] == pytest.approx(metrics.f1_score(truth, guessed, average="macro"))
    assert result["roc_auc"] == pytest.approx(metrics.roc_auc_score(truth == "b", proba["b"][kept]))


def test_multiclass_roc_auc_is_one_vs_rest() -> None:
    rng = np.random.default_rng(1)
    labels = rng.choice(["x", "y", "z"], size=300)
    proba = pd.DataFrame(rng.dirichlet([1, 1, 1], size=300), columns=["x", "y", "z"])
    result = classification_metrics(labels, proba.idxmax(axis=1), proba)
    assert result["roc_auc"] == pytest.approx(
        metrics.roc_auc_score(labels, proba.to_numpy(), multi_class="ovr")
    )


def test_regression_metrics() -> None:
    labels, predictions = np.array([1.0, 2.0, 4.0, np.nan]), np.array([1.5, 2.0, 3.0, 9.0])
    result = regression_metrics(labels, predictions)
    assert result == pytest.approx(
        {"rmse": np.sqrt((0.25 + 1.0) / 3), "mae": 0.5, "r2": 1 - 1.25 / (14 / 3)}
    )


def test_no_label_at_all_is_an_error() -> None:
    with pytest.raises(MonitorDataError, match="no row has a label"):
        classification_metrics([None, None], ["a", "b"])


def _scored(rng: np.random.Generator, rows: int, mean: float) -> tuple[np.ndarray, np.ndarray]:
    """A miscalibrated but well-ranking model: true P(y=1|x) = σ(2x), the model says σ(x + 0.4)."""
    x = rng.normal(mean, 1.0, rows)
    labels = np.where(rng.random(rows) < 1 / (1 + np.exp(-2 * x)), "churn", "stay")
    return 1 / (1 + np.exp(-(x + 0.4))), labels


def test_cbpe_estimates_the_realised_accuracy_and_roc_auc_under_covariate_shift() -> None:
    rng = np.random.default_rng(42)
    reference_proba, reference_labels = _scored(rng, 20_000, mean=0.0)
    current_proba, current_labels = _scored(rng, 20_000, mean=0.8)  # inputs shifted, labels unseen
    estimate = estimate_binary_performance(
        reference_proba, reference_labels, current_proba, "churn"
    )
    realised_accuracy = np.mean((current_proba >= 0.5) == (current_labels == "churn"))
    realised_auc = metrics.roc_auc_score(current_labels == "churn", current_proba)
    naive_accuracy = np.mean(np.where(current_proba >= 0.5, current_proba, 1 - current_proba))
    assert estimate["accuracy"] == pytest.approx(realised_accuracy, abs=0.015)
    assert estimate["roc_auc"] == pytest.approx(realised_auc, abs=0.015)
    assert abs(naive_accuracy - realised_accuracy) > 0.03  # calibration is what makes it right


def test_cbpe_needs_both_classes_in_the_reference() -> None:
    with pytest.raises(MonitorDataError, match="both classes"):
        estimate_binary_performance([0.2, 0.7], ["stay", "stay"], [0.5], "churn")


def test_histograms() -> None:
    numeric = histogram(
        np.array([0.0, 1.0, 2.0, np.nan]), np.array([2.0, 3.0, 4.0]), "numeric", bins=4
    )
    assert numeric == {
        "kind": "numeric",
        "edges": [0.0, 1.0, 2.0, 3.0, 4.0],
        "reference": [1 / 3, 1 / 3, 1 / 3, 0.0],
        "current": [0.0, 0.0, 1 / 3, 2 / 3],
    }
    categorical = histogram(
        np.array(["a", "a", "b", "c"]), np.array(["a", "d"]), "categorical", bins=2
    )
    assert categorical["categories"] == ["a", "d", "(other)"]
    assert categorical["reference"] == [0.5, 0.0, 0.5] and categorical["current"] == [0.5, 0.5, 0.0]
