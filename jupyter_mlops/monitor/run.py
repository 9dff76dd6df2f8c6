"""One monitoring run: the version's reference, the current rows (``--since`` on), their
predictions where the source has none, the windows measured, recorded in MLflow, the
result and what fired."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from jupyter_mlops.errors import MonitorDataError, MonitorError
from jupyter_mlops.monitor.measure import PROBA_PREFIX, measure_window, served_rows
from jupyter_mlops.monitor.recording import record_windows, source_id
from jupyter_mlops.monitor.reference import Reference, load_reference
from jupyter_mlops.monitor.result import MonitorResult, WindowResult
from jupyter_mlops.monitor.sources import (
    PREDICTION,
    CurrentData,
    read_data,
    read_service_log,
)
from jupyter_mlops.monitor.windows import Window, since_filter, split_windows

if TYPE_CHECKING:
    import pandas

    from jupyter_mlops.monitor.settings import MonitorSettings

HISTOGRAM_BINS = 20


@dataclass(frozen=True)
class MonitorRequest:
    """What to monitor: the version (``selector`` as the user wrote it), the source (a file
    or database URL with ``query``, or a service log folder), the time range and windows."""

    tracking_uri: str
    model: str
    selector: str
    version: str
    settings: MonitorSettings
    window: timedelta
    window_text: str
    data: str | None = None
    query: str | None = None
    service_log: str | None = None
    since: datetime | None = None
    labels: str | None = None
    fail_on: list[str] = field(default_factory=list)


def run_monitor(request: MonitorRequest) -> MonitorResult:
    """Monitor ``request``; ``MonitorError`` naming the source, column or version at fault."""
    reference = load_reference(request.tracking_uri, request.model, request.version)
    current = _current(request, reference)
    rows = since_filter(current.rows, request.since, current.location)
    if not len(rows):
        since = f" since {request.since.isoformat()}" if request.since else ""
        raise MonitorError(f"no rows to monitor in {current.location}{since}")
    rows = _with_predictions(request, reference, current, rows)
    windows = [
        _measured(window, reference, current, request.settings)
        for window in split_windows(rows, request.window)
    ]
    source = source_id(current.kind, current.location, request.query)
    experiment = record_windows(
        request.tracking_uri, request.model, source, windows, datetime.now(UTC)
    )
    return MonitorResult(
        model=request.model,
        selector=request.selector,
        reference=reference.to_json(),
        source={
            **current.to_json(),
            "id": source,
            "since": request.since.isoformat() if request.since else None,
            "window": request.window_text,
        },
        windows=windows,
        histograms=histograms(reference, served_rows(rows), HISTOGRAM_BINS),
        fail_on=list(request.fail_on),
        experiment=experiment,
    )


def _measured(
    window: Window, reference: Reference, current: CurrentData, settings: MonitorSettings
) -> WindowResult:
    """``measure_window``; a column error names the window and the source too."""
    try:
        return measure_window(window, reference, current.label_source, settings)
    except MonitorDataError as error:
        raise MonitorDataError(
            f"window {window.label} of {current.location}: {error.message}", name=error.name
        ) from None


def _current(request: MonitorRequest, reference: Reference) -> CurrentData:
    if request.service_log is not None:
        return read_service_log(request.service_log, request.model, reference.columns)
    assert request.data is not None
    return read_data(request.data, request.query, request.labels, reference.columns)


def _with_predictions(
    request: MonitorRequest, reference: Reference, current: CurrentData, rows: pandas.DataFrame
) -> pandas.DataFrame:
    """``rows`` with a ``prediction`` column (the version's, when the source has none) and,
    when CBPE will estimate performance (a binary classifier, no labels), the version's
    class probabilities."""
    needs_proba = reference.is_binary and current.label_source is None
    if PREDICTION in rows.columns and not needs_proba:
        return rows
    from jupyter_mlops.monitor.current_predictions import score_rows

    scored = score_rows(
        request.tracking_uri,
        request.model,
        request.version,
        rows[reference.columns],
        current.location,
    )
    rows = rows.copy()
    if PREDICTION not in rows.columns:
        rows[PREDICTION] = scored.predictions
    if scored.proba is not None:
        for index, label in enumerate(reference.classes):
            rows[f"{PROBA_PREFIX}{index}"] = scored.proba[label].to_numpy()
    return rows


def histograms(reference: Reference, rows: pandas.DataFrame, bins: int) -> dict[str, Any]:
    """Reference vs current histograms of every feature and of the predictions."""
    from jupyter_mlops.monitor.histograms import histogram

    kinds = reference.description.get("kinds", {})
    shown = {
        column: histogram(
            reference.features[column], rows[column], _histogram_kind(kinds.get(column)), bins
        )
        for column in reference.columns
    }
    if PREDICTION in rows.columns:
        kind = "categorical" if reference.task == "classification" else "numeric"
        shown[PREDICTION] = histogram(
            reference.predictions[PREDICTION], rows[PREDICTION], kind, bins
        )
    return shown


def _histogram_kind(kind: str | None) -> str:
    return "numeric" if kind == "numeric" else "categorical"
