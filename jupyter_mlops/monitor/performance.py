"""Realised model performance from labels: classification and regression metrics (sklearn).

Rows whose label is missing are left out; no labelled row left is a ``MonitorDataError``.
"""

from __future__ import annotations

from typing import Any

from jupyter_mlops.errors import MonitorDataError


def classification_metrics(labels: Any, predictions: Any, proba: Any = None) -> dict[str, float]:
    """accuracy, macro f1/precision/recall, and roc_auc when ``proba`` (a DataFrame with one
    column per class, named by the class) is given and the labels hold at least two classes:
    binary on the column of the second class in sorted order, else one-vs-rest macro."""
    from sklearn import metrics

    labels, predictions, keep = _labelled(labels, predictions)
    result = {
        "accuracy": float(metrics.accuracy_score(labels, predictions)),
        "f1": float(metrics.f1_score(labels, predictions, average="macro", zero_division=0)),
        "precision": float(
            metrics.precision_score(labels, predictions, average="macro", zero_division=0)
        ),
        "recall": float(
            metrics.recall_score(labels, predictions, average="macro", zero_division=0)
        ),
    }
    if proba is not None and len(set(labels.tolist())) >= 2:
        result["roc_auc"] = _roc_auc(
            labels, proba.iloc[keep] if hasattr(proba, "iloc") else proba[keep]
        )
    return result


def _roc_auc(labels: Any, proba: Any) -> float:
    import numpy as np
    from sklearn import metrics

    classes = list(proba.columns)
    if not set(labels.tolist()) <= set(classes):
        unknown = sorted(map(str, set(labels.tolist()) - set(classes)))
        raise MonitorDataError(
            f"labels {', '.join(unknown)} have no probability column", name="proba"
        )
    if len(classes) == 2:
        positive = sorted(classes)[1]
        return float(metrics.roc_auc_score(labels == positive, proba[positive].to_numpy()))
    scores = proba.to_numpy(dtype=np.float64)
    return float(
        metrics.roc_auc_score(labels, scores, multi_class="ovr", average="macro", labels=classes)
    )


def regression_metrics(labels: Any, predictions: Any) -> dict[str, float]:
    """rmse, mae, and r2 (r2 from two labelled rows on)."""
    import numpy as np
    from sklearn import metrics

    labels, predictions, _ = _labelled(labels, predictions)
    labels, predictions = labels.astype(np.float64), predictions.astype(np.float64)
    result = {
        "rmse": float(np.sqrt(metrics.mean_squared_error(labels, predictions))),
        "mae": float(metrics.mean_absolute_error(labels, predictions)),
    }
    if len(labels) >= 2:
        result["r2"] = float(metrics.r2_score(labels, predictions))
    return result


def _labelled(labels: Any, predictions: Any) -> tuple[Any, Any, Any]:
    """The labels and predictions of the rows that have a label, and those rows' positions."""
    import numpy as np
    import pandas as pd

    label_values = pd.Series(labels).reset_index(drop=True)
    prediction_values = pd.Series(predictions).reset_index(drop=True)
    if len(label_values) != len(prediction_values):
        raise MonitorDataError(
            f"{len(label_values)} labels for {len(prediction_values)} predictions", name="labels"
        )
    keep = np.flatnonzero(label_values.notna().to_numpy())
    if len(keep) == 0:
        raise MonitorDataError("no row has a label to measure performance with", name="labels")
    return label_values.to_numpy()[keep], prediction_values.to_numpy()[keep], keep
