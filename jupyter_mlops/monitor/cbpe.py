"""Confidence-based performance estimation (NannyML's CBPE) for binary classifiers without labels.

The model's positive-class probabilities on the reference are calibrated against the reference
labels with isotonic regression. On the current data the calibrated probability p of each row is
the chance the row is positive, so

* expected accuracy = mean of p where the model predicts positive (score ≥ 0.5), else 1 − p;
* expected ROC AUC = the area under the curve traced by ordering rows by the model's score,
  counting p as an expected true positive and 1 − p as an expected false positive.

The estimate is only as good as the calibration: it holds under covariate shift (P(y | score)
unchanged), not under concept drift.
"""

from __future__ import annotations

import math
from typing import Any

from jupyter_mlops.errors import MonitorDataError

DECISION_THRESHOLD = 0.5


def estimate_binary_performance(
    reference_proba: Any, reference_labels: Any, current_proba: Any, positive_label: Any
) -> dict[str, float]:
    """``{"accuracy", "roc_auc"}`` expected on ``current_proba`` (positive-class probabilities);
    roc_auc is left out when the calibrated probabilities expect a single class."""
    import numpy as np

    calibrated = calibrate(reference_proba, reference_labels, positive_label)(current_proba)
    scores = np.asarray(current_proba, dtype=np.float64)
    if len(scores) == 0:
        raise MonitorDataError(
            "no current predictions to estimate performance on", name="current_proba"
        )
    predicted = scores >= DECISION_THRESHOLD
    estimate = {"accuracy": float(np.mean(np.where(predicted, calibrated, 1.0 - calibrated)))}
    roc_auc = expected_roc_auc(scores, calibrated)
    if math.isfinite(roc_auc):  # undefined when every row is expected to be of one class
        estimate["roc_auc"] = roc_auc
    return estimate


def calibrate(reference_proba: Any, reference_labels: Any, positive_label: Any) -> Any:
    """A function mapping scores to calibrated probabilities, fitted on the reference."""
    import numpy as np
    import pandas as pd
    from sklearn.isotonic import IsotonicRegression

    labels = pd.Series(reference_labels).reset_index(drop=True)
    scores = np.asarray(reference_proba, dtype=np.float64)
    if len(labels) != len(scores):
        raise MonitorDataError(
            f"{len(labels)} reference labels for {len(scores)} scores", name="reference_labels"
        )
    known = labels.notna().to_numpy() & np.isfinite(scores)
    positive = (labels[known] == positive_label).to_numpy(dtype=np.float64)
    if len(positive) == 0 or positive.min() == positive.max():
        raise MonitorDataError(
            "the reference labels need both classes to calibrate the model's confidence",
            name="reference_labels",
        )
    model = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(
        scores[known], positive
    )

    def calibrated(proba: Any) -> Any:
        return model.predict(np.asarray(proba, dtype=np.float64))

    return calibrated


def expected_roc_auc(scores: Any, calibrated: Any) -> float:
    """ROC AUC with each row's calibrated probability standing in for its label."""
    import numpy as np

    order = np.argsort(-scores, kind="stable")
    ordered = scores[order]
    true_positives = np.cumsum(calibrated[order])
    false_positives = np.cumsum(1.0 - calibrated[order])
    ends = np.r_[ordered[1:] != ordered[:-1], True]  # one ROC point per distinct score
    if true_positives[-1] <= 0.0 or false_positives[-1] <= 0.0:
        return float("nan")
    tpr = np.r_[0.0, true_positives[ends] / true_positives[-1]]
    fpr = np.r_[0.0, false_positives[ends] / false_positives[-1]]
    return float(np.trapezoid(tpr, fpr))
