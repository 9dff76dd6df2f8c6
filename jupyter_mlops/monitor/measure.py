"""The numbers of one window: feature drift against the reference, prediction drift against
the reference predictions and between the versions served side by side, performance on the
labels (a ``--labels`` column or the service's feedback) or, for a binary classifier without
labels, estimated by CBPE; and which performance metrics crossed their ``decay`` threshold.

Shadow answers (``shadow_of`` set in a request log) repeat the inputs of a served answer:
they count in the window's versions and the between-versions comparison only."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jupyter_mlops.monitor.reference import Reference
from jupyter_mlops.monitor.result import WindowResult
from jupyter_mlops.monitor.sources import LABEL, PREDICTION, SHADOW, VERSION
from jupyter_mlops.monitor.windows import Window

if TYPE_CHECKING:
    import pandas

    from jupyter_mlops.monitor.settings import MonitorSettings

PROBA_PREFIX = "__mlops_proba_"
ERROR_METRICS = frozenset({"rmse", "mae"})  # lower is better: decay fires above the threshold


def measure_window(
    window: Window, reference: Reference, label_source: str | None, settings: MonitorSettings
) -> WindowResult:
    """The ``WindowResult`` of ``window`` (its MLflow run id is set when recorded)."""
    from jupyter_mlops.monitor.column_drift import dataset_drift

    rows = window.rows
    served = served_rows(rows)
    drift = dataset_drift(
        reference.features,
        served[reference.columns],
        settings,
        columns=reference.columns,
        reference_rows=reference.rows,
    )
    performance = window_performance(served, reference, label_source)
    return WindowResult(
        start=window.start,
        end=window.end,
        rows=len(rows),
        versions=version_counts(rows, reference.version),
        drift=drift.to_json(),
        prediction_drift={
            "reference": _reference_prediction_drift(served, reference, settings),
            "between_versions": _between_versions(rows, reference, settings),
        },
        performance=performance,
        decayed=decayed_metrics(performance, settings),
    )


def served_rows(rows: pandas.DataFrame) -> pandas.DataFrame:
    """The rows answered to clients (not shadow copies)."""
    if SHADOW not in rows.columns:
        return rows
    return rows[rows[SHADOW].isna()]


def version_counts(rows: pandas.DataFrame, default: str) -> dict[str, int]:
    """Rows per model version (all rows are ``default``'s without a version column)."""
    if VERSION not in rows.columns:
        return {default: len(rows)}
    counts = rows[VERSION].astype(str).value_counts(sort=False)
    return {str(v): int(n) for v, n in sorted(counts.items(), key=lambda item: _order(item[0]))}


def proba_frame(rows: pandas.DataFrame, classes: list[Any]) -> pandas.DataFrame | None:
    """The class probabilities stored in ``rows`` (columns named by class), or None."""
    columns = [f"{PROBA_PREFIX}{i}" for i in range(len(classes))]
    if not classes or not set(columns) <= set(rows.columns):
        return None
    frame = rows[columns].copy()
    frame.columns = classes
    return frame


def window_performance(
    served: pandas.DataFrame, reference: Reference, label_source: str | None
) -> dict[str, Any] | None:
    """``{"source", "rows", "metrics"}`` on the labelled rows, else the CBPE estimate for
    a binary classifier whose reference has labels, else None."""
    from jupyter_mlops.monitor.performance import classification_metrics, regression_metrics

    if label_source is not None and LABEL in served.columns:
        labelled = served[served[LABEL].notna()]
        if len(labelled):
            labels, predictions = labelled[LABEL].to_numpy(), labelled[PREDICTION].to_numpy()
            if reference.task == "classification":
                labels = _like(labels, predictions)
                proba = proba_frame(labelled, reference.classes)
                metrics = classification_metrics(labels, predictions, proba)
            else:
                metrics = regression_metrics(labels.astype(float), predictions.astype(float))
            return {"source": label_source, "rows": len(labelled), "metrics": metrics}
    current = proba_frame(served, reference.classes)
    if reference.is_binary and reference.labels is not None and current is not None:
        from jupyter_mlops.monitor.cbpe import estimate_binary_performance

        positive = reference.classes[1]
        assert reference.proba is not None
        estimate = estimate_binary_performance(
            reference.proba[positive], reference.labels, current[positive], positive
        )
        return {"source": "cbpe", "rows": len(served), "metrics": dict(estimate)}
    return None


def decayed_metrics(performance: dict[str, Any] | None, settings: MonitorSettings) -> list[str]:
    """The metrics past their ``decay`` threshold: below it, or above it for error metrics
    (``rmse``, ``mae``)."""
    if performance is None:
        return []
    thresholds = getattr(settings, "decay", None) or {}
    metrics = performance["metrics"]
    return [
        name
        for name, limit in thresholds.items()
        if name in metrics
        and (metrics[name] > limit if name in ERROR_METRICS else metrics[name] < limit)
    ]


def _reference_prediction_drift(
    served: pandas.DataFrame, reference: Reference, settings: MonitorSettings
) -> dict[str, Any] | None:
    from jupyter_mlops.monitor.column_drift import column_drift

    if PREDICTION not in served.columns or not len(served):
        return None
    drift = column_drift(
        PREDICTION,
        reference.predictions[PREDICTION],
        _like(served[PREDICTION].to_numpy(), reference.predictions[PREDICTION].to_numpy()),
        settings,
        reference_rows=reference.rows,
    )
    return drift.to_json()


def _between_versions(
    rows: pandas.DataFrame, reference: Reference, settings: MonitorSettings
) -> dict[str, Any] | None:
    """Prediction drift between the two versions answering most rows of the window (the
    reference version first when it is one of them)."""
    from jupyter_mlops.monitor.column_drift import column_drift

    if VERSION not in rows.columns or PREDICTION not in rows.columns:
        return None
    counts = version_counts(rows, reference.version)
    if len(counts) < 2:
        return None
    top = sorted(counts, key=lambda v: (-counts[v], _order(v)))[:2]
    top.sort(key=lambda v: (v != reference.version, _order(v)))
    by_version = rows[VERSION].astype(str)
    first, second = (rows.loc[by_version == v, PREDICTION] for v in top)
    drift = column_drift(PREDICTION, first, second, settings, reference_rows=len(first))
    return {"versions": top, **drift.to_json()}


def _like(values: Any, model: Any) -> Any:
    """``values`` cast to the dtype of ``model`` where that keeps them (labels sent as
    floats by the feedback endpoint compared with integer predictions)."""
    import numpy

    try:
        cast = numpy.asarray(values).astype(numpy.asarray(model).dtype)
    except (TypeError, ValueError):
        return values
    if numpy.asarray(model).dtype.kind in "iub":
        same = numpy.asarray(values, dtype=object) == numpy.asarray(cast, dtype=object)
        if not bool(numpy.all(same)):
            return values
    return cast


def _order(version: str) -> tuple[int, str]:
    return (int(version), "") if str(version).isdigit() else (1 << 62, str(version))
