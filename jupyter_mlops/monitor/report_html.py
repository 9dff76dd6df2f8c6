"""The monitoring report: a monitor result (``MonitorResult.to_json()``) as one HTML file.

Self-contained (inline CSS and SVG, no script, no external file), readable offline and on
paper, and deterministic: the same result gives the same bytes. Every string from the result
is escaped. Sections: header (what was monitored, what fired), the latest window's features,
histograms, prediction drift, drift over time, performance over time, versions served.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from pathlib import Path
from typing import Any

from jupyter_mlops.artifacts.store import write_text_atomic
from jupyter_mlops.errors import FileSystemError, MonitorError
from jupyter_mlops.monitor import report_sections as sections
from jupyter_mlops.monitor.report_parts import (
    drift_cell,
    drift_columns,
    feature_row_order,
    percent,
    test_name,
    threshold_text,
    window_label,
    windows_of,
)
from jupyter_mlops.monitor.svg_charts import fmt

SUMMARY_ROWS = 50  # feature rows shown before the rest fold into a <details>

_CSS = """
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2127;
  background: #fff; margin: 0 auto; padding: 24px 32px 48px; max-width: 1220px; }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 19px; margin: 32px 0 8px;
  border-bottom: 1px solid #d5d8dc; padding-bottom: 4px; } h3 { font-size: 15px; margin: 16px 0 6px; }
.muted { color: #555b63; } code { font-size: 13px; background: #f2f3f5; padding: 0 3px; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 12px 0; }
dl.facts dt { font-weight: 600; } dl.facts dd { margin: 0; overflow-wrap: anywhere; }
.status { border: 2px solid #1f7a3a; background: #eef7f0; padding: 8px 14px; margin: 12px 0;
  border-radius: 4px; } .status.fired { border-color: #b00020; background: #fdf0f1; }
.status ul { margin: 4px 0; padding-left: 20px; }
table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
th, td { border: 1px solid #d5d8dc; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f2f3f5; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.name { overflow-wrap: anywhere; max-width: 320px; }
tr.drifted td { background: #fdf0f1; } .flag { font-weight: 600; white-space: nowrap; }
.flag.drifted { color: #b00020; } .flag.stable { color: #1f7a3a; }
.charts { display: flex; flex-wrap: wrap; gap: 12px 24px; }
figure { margin: 0; break-inside: avoid; } figcaption { font-size: 13px; margin-bottom: 2px; }
svg.chart { max-width: 100%; height: auto; display: block; }
details { margin: 8px 0; } summary { cursor: pointer; font-weight: 600; }
@media print { body { padding: 0; max-width: none; } h2 { break-after: avoid; }
  section { break-inside: auto; } .status { break-inside: avoid; } }
"""


def render_report(result: Mapping[str, Any]) -> str:
    """The report for ``result`` as a complete HTML document."""
    _check(result)
    windows = windows_of(result)
    title = f"Monitoring report: {result.get('model') or 'model'}"
    body = [
        _header(result, windows),
        _summary(windows),
        sections.histograms(result, windows),
        sections.prediction_drift(result, windows),
        sections.drift_over_time(windows),
        sections.performance_over_time(windows),
        sections.versions_served(windows),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="color-scheme" content="light">\n'
        f"<title>{escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


def write_report(result: Mapping[str, Any], path: str | Path) -> Path:
    """Render ``result`` and write it to ``path`` atomically; the path written."""
    target = Path(path)
    text = render_report(result)
    try:
        write_text_atomic(target, text)
    except OSError as exc:
        raise FileSystemError.of(exc, "write the monitoring report", target) from None
    return target


def _check(result: Mapping[str, Any]) -> None:
    """MonitorError naming the key when the result's shape is not the contract's."""
    if not isinstance(result, Mapping):
        raise MonitorError(f"monitor result: expected a JSON object, got {type(result).__name__}")
    expected = {"windows": list, "histograms": Mapping, "reference": Mapping, "source": Mapping}
    for key, kind in expected.items():
        value = result.get(key)
        if value is not None and not isinstance(value, kind):
            raise MonitorError(
                f"monitor result: '{key}' must be a {'list' if kind is list else 'mapping'}, "
                f"got {type(value).__name__}",
                name=key,
            )
    for index, window in enumerate(result.get("windows") or []):
        if not isinstance(window, Mapping):
            raise MonitorError(
                f"monitor result: windows[{index}] must be a mapping", name="windows"
            )
    for column, histogram in (result.get("histograms") or {}).items():
        if not isinstance(histogram, Mapping):
            raise MonitorError(
                f"monitor result: histograms[{column!r}] must be a mapping", name="histograms"
            )


def _header(result: Mapping[str, Any], windows: list[Mapping[str, Any]]) -> str:
    reference = result.get("reference") or {}
    source = result.get("source") or {}
    versions = ", ".join(str(v) for v in result.get("versions") or []) or "n/a"
    columns = reference.get("columns") or []
    facts = [
        (
            "Model",
            f"{_e(result.get('model'))} <span class='muted'>({_e(result.get('selector'))})</span>",
        ),
        ("Versions served", escape(versions)),
        (
            "Reference",
            f"version {_e(reference.get('version'))}, {fmt(reference.get('rows'))} rows, "
            f"{len(columns)} feature columns",
        ),
        ("Source", f"{_e(source.get('kind'))}: <code>{_e(source.get('location'))}</code>"),
        ("Since", _e(source.get("since") or "the start of the source")),
        ("Windows", _windows_fact(windows, source.get("window"))),
        ("MLflow experiment", f"<code>{_e(result.get('experiment'))}</code>"),
    ]
    rows = "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in facts)
    return (
        f"<header><h1>Monitoring report: {_e(result.get('model'))}</h1>"
        f"{_status(result, windows)}<dl class='facts'>{rows}</dl></header>"
    )


def _windows_fact(windows: list[Mapping[str, Any]], size: object) -> str:
    if not windows:
        return f"none (window size {_e(size)})"
    first, last = windows[0], windows[-1]
    return (
        f"{len(windows)} of {_e(size)}, from {escape(window_label(first.get('start'), True))} "
        f"to {escape(window_label(last.get('end'), True))} UTC"
    )


def _status(result: Mapping[str, Any], windows: list[Mapping[str, Any]]) -> str:
    fired = [str(name) for name in result.get("fired") or []]
    latest = windows[-1] if windows else {}
    lines = [_fired_line(name, latest) for name in fired]
    if not fired:
        lines = ["✓ Nothing fired on the latest window. " + _drift_sentence(latest)]
    fail_on = [str(name) for name in result.get("fail_on") or []]
    if fail_on:
        failing = sorted(set(fired) & set(fail_on))
        outcome = f"it fired ({', '.join(failing)}): the command failed" if failing else "it passed"
        lines.append(f"Asked to fail on {escape(', '.join(fail_on))}: {escape(outcome)}.")
    items = "".join(f"<li>{line}</li>" for line in lines)
    kind = "status fired" if fired else "status"
    heading = "⚠ Fired: " + escape(", ".join(fired)) if fired else "✓ No alert"
    return f"<div class='{kind}' role='status'><strong>{heading}</strong><ul>{items}</ul></div>"


def _fired_line(name: str, latest: Mapping[str, Any]) -> str:
    if name == "drift":
        return "⚠ <strong>Data drift</strong>: " + _drift_sentence(latest)
    if name == "decay":
        return "⚠ <strong>Performance decay</strong>: " + _decay_sentence(latest)
    return f"⚠ <strong>{escape(name)}</strong> fired on the latest window."


def _decay_sentence(window: Mapping[str, Any]) -> str:
    performance = window.get("performance") or {}
    metrics = performance.get("metrics") or {}
    decayed = [str(m) for m in window.get("decayed") or []] or sorted(str(m) for m in metrics)
    values = ", ".join(f"{escape(m)} {fmt(metrics.get(m))}" for m in decayed)
    estimated = (
        " (estimated with CBPE, no labels yet)" if performance.get("source") == "cbpe" else ""
    )
    if not values:
        return f"a metric is past its <code>monitor.decay</code> threshold{estimated}."
    verb, their = ("is", "its") if len(decayed) == 1 else ("are", "their")
    return (
        f"{values} {verb} past {their} <code>monitor.decay</code> threshold in the latest "
        f"window{estimated}."
    )


def _drift_sentence(window: Mapping[str, Any]) -> str:
    drift = window.get("drift") or {}
    columns = drift_columns(window)
    if not columns:
        return "No feature drift was measured."
    drifted = sum(1 for c in columns if c.get("drifted"))
    return escape(
        f"{drifted} of {len(columns)} features drifted in the latest window "
        f"({window_label(window.get('start'), True)} UTC): a share of {percent(drift.get('share'))}, "
        f"{'at or above' if drift.get('drifted') else 'below'} the drift share of "
        f"{percent(drift.get('drift_share'))}."
    )


def _summary(windows: list[Mapping[str, Any]]) -> str:
    head = "<h2 id='features'>Features in the latest window</h2>"
    if not windows:
        return f"<section>{head}<p>No windows: the source had no rows to compare.</p></section>"
    columns = feature_row_order(drift_columns(windows[-1]))
    if not columns:
        return (
            f"<section>{head}<p>No feature drift was measured in the latest window.</p></section>"
        )
    label = window_label(windows[-1].get("start"), True)
    intro = (
        f"<p class='muted'>Window starting {escape(label)} UTC, "
        f"{fmt(windows[-1].get('rows'))} rows. Drifted features first.</p>"
    )
    table = _feature_table(columns[:SUMMARY_ROWS])
    rest = columns[SUMMARY_ROWS:]
    more = (
        f"<details><summary>{len(rest)} more features</summary>{_feature_table(rest)}</details>"
        if rest
        else ""
    )
    return f"<section>{head}{intro}{table}{more}</section>"


def _feature_table(columns: list[Mapping[str, Any]]) -> str:
    head = (
        "<tr><th>Feature</th><th>Kind</th><th>Test</th><th>Statistic</th><th>p-value</th>"
        "<th>Drifts when</th><th>PSI</th><th>Missing</th><th>Drifted</th></tr>"
    )
    rows = []
    for column in columns:
        rows.append(
            f"<tr class='{'drifted' if column.get('drifted') else 'stable'}'>"
            f"<td class='name'>{_e(column.get('column'))}</td><td>{_e(column.get('kind'))}</td>"
            f"<td>{test_name(column.get('test'))}</td>"
            f"<td class='num'>{fmt(column.get('statistic'))}</td>"
            f"<td class='num'>{fmt(column.get('p_value'))}</td>"
            f"<td>{threshold_text(column)}</td><td class='num'>{fmt(column.get('psi'))}</td>"
            f"<td class='num'>{percent(column.get('missing'), 1)}</td>"
            f"<td>{drift_cell(column.get('drifted'))}</td></tr>"
        )
    return f"<table class='features'>{head}{''.join(rows)}</table>"


def _e(value: object) -> str:
    return escape("n/a" if value is None else str(value))
