"""The chart sections of the monitoring report (see ``report_html``), each an HTML string."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from jupyter_mlops.monitor.report_parts import (
    drift_cell,
    drift_columns,
    feature_row_order,
    test_name,
    threshold_text,
    version_key,
    window_label,
)
from jupyter_mlops.monitor.svg_charts import (
    PALETTE,
    Series,
    finite,
    fmt,
    histogram_chart,
    line_chart,
    stacked_bar_chart,
)

HISTOGRAM_CHARTS = 24  # features drawn as charts; the others are summarised in a table
PREDICTION = "prediction"

Window = Mapping[str, Any]


def histograms(result: Mapping[str, Any], windows: list[Window]) -> str:
    """Reference-vs-current histograms per feature, drifted features first."""
    head = "<h2 id='histograms'>Feature distributions: reference vs current</h2>"
    found = {str(k): v for k, v in (result.get("histograms") or {}).items()}
    drift = {str(c.get("column")): c for c in drift_columns(windows[-1])} if windows else {}
    order = [str(c.get("column")) for c in feature_row_order(drift.values())]
    order += sorted(name for name in found if name not in drift and name != PREDICTION)
    names = [name for name in order if name in found]
    if not names:
        return f"<section>{head}<p>No histograms in this result.</p></section>"
    intro = (
        "<p class='muted'>Share of rows per bin (numeric) or category, over the whole "
        "current data; outlined bars are the reference, filled bars the current data.</p>"
    )
    figures = [
        _histogram_figure(name, found[name], drift.get(name)) for name in names[:HISTOGRAM_CHARTS]
    ]
    rest = names[HISTOGRAM_CHARTS:]
    more = ""
    if rest:
        rows = "".join(_shift_row(name, found[name], drift.get(name)) for name in rest)
        more = (
            f"<details><summary>{len(rest)} more features (not drawn)</summary><table>"
            "<tr><th>Feature</th><th>Kind</th><th>Bins</th><th>Largest bin change</th>"
            f"<th>Total variation</th><th>Drifted</th></tr>{rows}</table></details>"
        )
    return f"<section>{head}{intro}<div class='charts'>{''.join(figures)}</div>{more}</section>"


def _histogram_figure(
    name: str, histogram: Mapping[str, Any], drift: Mapping[str, Any] | None
) -> str:
    caption = f"<strong>{escape(name)}</strong>"
    if drift is not None:
        caption += (
            f" {drift_cell(drift.get('drifted'))} <span class='muted'>{test_name(drift.get('test'))}"
            f" {fmt(drift.get('statistic'))}</span>"
        )
    chart = histogram_chart(dict(histogram), f"{name}: reference vs current")
    return f"<figure class='histogram'><figcaption>{caption}</figcaption>{chart}</figure>"


def _shift_row(name: str, histogram: Mapping[str, Any], drift: Mapping[str, Any] | None) -> str:
    reference = [finite(v) or 0.0 for v in histogram.get("reference") or []]
    current = [finite(v) or 0.0 for v in histogram.get("current") or []]
    changes = [abs(a - b) for a, b in zip(reference, current, strict=False)]
    largest = max(changes, default=None)
    return (
        f"<tr><td class='name'>{escape(name)}</td><td>{escape(str(histogram.get('kind')))}</td>"
        f"<td class='num'>{max(len(reference), len(current))}</td>"
        f"<td class='num'>{fmt(largest)}</td><td class='num'>{fmt(sum(changes) / 2)}</td>"
        f"<td>{drift_cell(drift.get('drifted') if drift else None)}</td></tr>"
    )


def prediction_drift(result: Mapping[str, Any], windows: list[Window]) -> str:
    """The latest window's prediction drift, its histogram and its statistic over time."""
    head = "<h2 id='prediction-drift'>Prediction drift</h2>"
    latest = (windows[-1].get("prediction_drift") or {}) if windows else {}
    parts = []
    rows = [
        (label, record)
        for key, label in _PREDICTION_ROWS
        if isinstance(record := latest.get(key), Mapping)
    ]
    if rows:
        parts.append(_prediction_table(rows))
    histogram = (result.get("histograms") or {}).get(PREDICTION)
    charts = []
    if isinstance(histogram, Mapping):
        charts.append(
            "<figure><figcaption><strong>Predictions</strong>: reference vs current</figcaption>"
            f"{histogram_chart(dict(histogram), 'predictions: reference vs current')}</figure>"
        )
    over_time = _prediction_over_time(windows)
    if over_time:
        charts.append(over_time)
    if charts:
        parts.append(f"<div class='charts'>{''.join(charts)}</div>")
    if not parts:
        parts.append("<p>No prediction drift was measured (no predictions in the source).</p>")
    return f"<section>{head}{''.join(parts)}</section>"


_PREDICTION_ROWS = (("reference", "vs the reference"), ("between_versions", "between versions"))


def _prediction_table(rows: list[tuple[str, Mapping[str, Any]]]) -> str:
    body = []
    for label, record in rows:
        versions = record.get("versions")
        if versions:
            label = f"{label} {' and '.join(str(v) for v in versions)}"
        body.append(
            f"<tr><td>{escape(label)}</td><td>{test_name(record.get('test'))}</td>"
            f"<td class='num'>{fmt(record.get('statistic'))}</td>"
            f"<td class='num'>{fmt(record.get('p_value'))}</td><td>{threshold_text(record)}</td>"
            f"<td>{drift_cell(record.get('drifted'))}</td></tr>"
        )
    return (
        "<table><tr><th>Compared</th><th>Test</th><th>Statistic</th><th>p-value</th>"
        f"<th>Drifts when</th><th>Drifted</th></tr>{''.join(body)}</table>"
    )


def _prediction_over_time(windows: list[Window]) -> str:
    if not windows:
        return ""
    series = []
    for index, (key, label) in enumerate(_PREDICTION_ROWS):
        values = [_record(w, key).get("statistic") for w in windows]
        if any(finite(v) is not None for v in values):
            series.append(Series(f"statistic {label}", values, PALETTE[index]))
    if not series:
        return ""
    chart = line_chart(
        "prediction drift statistic per window", _x_labels(windows), series, "statistic"
    )
    return f"<figure><figcaption><strong>Prediction drift statistic per window</strong></figcaption>{chart}</figure>"


def _record(window: Window, key: str) -> Mapping[str, Any]:
    record = (window.get("prediction_drift") or {}).get(key)
    return record if isinstance(record, Mapping) else {}


def drift_over_time(windows: list[Window]) -> str:
    """Share of drifted features per window against the dataset drift threshold."""
    head = "<h2 id='drift-over-time'>Drift share over time</h2>"
    if not windows:
        return f"<section>{head}<p>No windows.</p></section>"
    shares = [(w.get("drift") or {}).get("share") for w in windows]
    limit = next(
        (finite((w.get("drift") or {}).get("drift_share")) for w in reversed(windows)), None
    )
    threshold = (limit, "drift share threshold") if limit is not None else None
    chart = line_chart(
        "share of drifted features per window",
        _x_labels(windows),
        [Series("share of drifted features", shares, PALETTE[0])],
        "share of features",
        threshold=threshold,
        y_range=(0.0, 1.0),
    )
    return f"<section>{head}<figure>{chart}</figure>{_windows_table(windows)}</section>"


def _windows_table(windows: list[Window]) -> str:
    rows = []
    for window in reversed(windows):
        drift = window.get("drift") or {}
        performance = window.get("performance") or {}
        metrics = performance.get("metrics") or {}
        shown = ", ".join(f"{escape(str(k))} {fmt(v)}" for k, v in sorted(metrics.items()))
        if shown and performance.get("source") == "cbpe":
            shown += " (estimated)"
        rows.append(
            f"<tr><td>{escape(window_label(window.get('start'), True))}</td>"
            f"<td class='num'>{fmt(window.get('rows'))}</td>"
            f"<td>{escape(_versions_text(window))}</td>"
            f"<td class='num'>{fmt(drift.get('share'))}</td>"
            f"<td>{drift_cell(drift.get('drifted'))}</td><td>{shown or 'n/a'}</td></tr>"
        )
    return (
        f"<details><summary>The numbers per window ({len(windows)}, newest first)</summary>"
        "<table><tr><th>Window start (UTC)</th><th>Rows</th><th>Rows per version</th>"
        "<th>Drift share</th><th>Dataset drifted</th><th>Performance</th></tr>"
        f"{''.join(rows)}</table></details>"
    )


def _versions_text(window: Window) -> str:
    versions = window.get("versions") or {}
    return ", ".join(f"v{k}: {fmt(versions[k])}" for k in sorted(versions, key=version_key))


def performance_over_time(windows: list[Window]) -> str:
    """One chart per metric; estimated (CBPE) points drawn as open circles."""
    head = "<h2 id='performance'>Performance over time</h2>"
    performances = [w.get("performance") or {} for w in windows]
    metrics = sorted({str(m) for p in performances for m in (p.get("metrics") or {})})
    if not metrics:
        return (
            f"<section>{head}<p>No performance: the windows had no labels, no feedback and "
            "no estimate.</p></section>"
        )
    estimated = [p.get("source") == "cbpe" for p in performances]
    note = (
        "<p class='muted'>Filled points are measured from labels or feedback; open points "
        "are estimated with CBPE (confidence-based, before labels arrive).</p>"
    )
    figures = []
    for index, metric in enumerate(metrics):
        values = [(p.get("metrics") or {}).get(metric) for p in performances]
        chart = line_chart(
            f"{metric} per window",
            _x_labels(windows),
            [Series(metric, values, PALETTE[index % len(PALETTE)], estimated)],
            metric,
        )
        figures.append(
            f"<figure><figcaption><strong>{escape(metric)}</strong></figcaption>{chart}</figure>"
        )
    return f"<section>{head}{note}<div class='charts'>{''.join(figures)}</div></section>"


def versions_served(windows: list[Window]) -> str:
    """Rows per model version per window, stacked."""
    head = "<h2 id='versions'>Which version served when</h2>"
    names = sorted({str(v) for w in windows for v in (w.get("versions") or {})}, key=version_key)
    if not names:
        return f"<section>{head}<p>No rows per version in this result.</p></section>"
    stacks = [
        Series(
            f"version {name}",
            [_version_rows(w, name) for w in windows],
            PALETTE[index % len(PALETTE)],
        )
        for index, name in enumerate(names)
    ]
    chart = stacked_bar_chart("rows per version per window", _x_labels(windows), stacks, "rows")
    return f"<section>{head}<figure>{chart}</figure></section>"


def _version_rows(window: Window, name: str) -> float | None:
    versions = {str(k): v for k, v in (window.get("versions") or {}).items()}
    return finite(versions.get(name))


def _x_labels(windows: list[Window]) -> list[str]:
    return [window_label(w.get("start")) for w in windows]
