"""HTML of the in-notebook panel: steps table, messages, model versions (core, no widgets).

Inline styles only (front ends may drop ``<style>`` blocks), coloured through JupyterLab's
CSS variables with neutral fallbacks, so light and dark themes, Notebook 7 and VS Code
all read well. The steps table has a fixed layout: status and duration cells have fixed
widths and never wrap, so a run's updates never move the layout.
"""

from __future__ import annotations

import time
from datetime import datetime
from html import escape
from typing import Any

from jupyter_mlops.execute.status import StepStatus
from jupyter_mlops.jupyter.panel.rows import Message, StepRow
from jupyter_mlops.jupyter.session import format_duration
from jupyter_mlops.registry.versions import ModelVersionInfo

FG = "var(--jp-ui-font-color1, inherit)"
MUTED = "var(--jp-ui-font-color2, #777)"
BORDER = "var(--jp-border-color2, rgba(128, 128, 128, 0.35))"
HEAD_BG = "var(--jp-layout-color2, rgba(128, 128, 128, 0.12))"
CODE_FONT = "var(--jp-code-font-family, ui-monospace, monospace)"
COLORS = {
    "info": "var(--jp-brand-color1, #1976d2)",
    "success": "var(--jp-success-color1, #2e7d32)",
    "warning": "var(--jp-warn-color1, #b45f06)",
    "error": "var(--jp-error-color1, #c62828)",
    "muted": MUTED,
}
# status -> (symbol, label, colour)
STATUS = {
    "idle": ("·", "", "muted"),
    StepStatus.WAITING: ("·", "waiting", "muted"),
    StepStatus.RUNNING: ("▶", "running", "info"),
    StepStatus.RAN: ("✓", "done", "success"),
    StepStatus.CACHED: ("=", "cached", "success"),
    StepStatus.FAILED: ("✗", "failed", "error"),
    StepStatus.NOT_RUN: ("-", "not run", "muted"),
    "cancelled": ("■", "cancelled", "warning"),
    "session_ok": ("✓", "ran in notebook", "muted"),
    "session_failed": ("✗", "failed in notebook", "error"),
}
# (header, width): fixed widths keep the table still while statuses change.
COLUMNS = (
    ("step", "15%"),
    ("inputs ← producer", "27%"),
    ("outputs", "18%"),
    ("params", "15%"),
    ("status", "15%"),
    ("duration", "10%"),
)
_CELL = f"padding: 3px 6px; border-bottom: 1px solid {BORDER}; vertical-align: top; "
_NOWRAP = "white-space: nowrap; overflow: hidden; text-overflow: ellipsis; "


def status_text(row: StepRow, now: float | None = None) -> tuple[str, str]:
    """(status cell text, duration cell text) of a row; running steps show elapsed time."""
    symbol, label, _ = STATUS.get(row.status, ("?", row.status, "muted"))
    if row.status == StepStatus.RUNNING and row.started is not None:
        elapsed = (time.monotonic() if now is None else now) - row.started
        return f"{symbol} {label}", f"{elapsed:.1f} s"
    shown = row.seconds is not None and row.status not in (
        StepStatus.CACHED,
        StepStatus.NOT_RUN,
        StepStatus.WAITING,
    )
    return f"{symbol} {label}".strip(), format_duration(row.seconds or 0.0) if shown else ""


def steps_table(rows: list[StepRow], now: float | None = None) -> str:
    """The steps table; a failed step's error is the tooltip of its status cell."""
    if not rows:
        return f'<p style="color: {MUTED}; margin: 4px 0;">No steps to show.</p>'
    cols = "".join(f'<col style="width: {width};">' for _, width in COLUMNS)
    head = "".join(
        f'<th style="{_CELL}{_NOWRAP}text-align: left; background: {HEAD_BG};">{escape(h)}</th>'
        for h, _ in COLUMNS
    )
    body = "".join(_row_html(row, now) for row in rows)
    return (
        '<table class="jupyter-mlops-steps" style="table-layout: fixed; width: 100%; '
        f'border-collapse: collapse; color: {FG}; font-size: 0.92em;">'
        f"<colgroup>{cols}</colgroup><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def _row_html(row: StepRow, now: float | None) -> str:
    status, duration = status_text(row, now)
    colour = COLORS[STATUS.get(row.status, ("", "", "muted"))[2]]
    inputs = ", ".join(f"{var} ← {producer}" for var, producer in row.inputs.items())
    params = "?" if row.params is None else ", ".join(row.params)
    title = f' title="{escape(row.error)}"' if row.error else ""
    code = f"font-family: {CODE_FONT}; overflow-wrap: anywhere; "
    cells = [
        f'<td style="{_CELL}{code}font-weight: 600;">{escape(row.name)}</td>',
        f'<td style="{_CELL}{code}">{escape(inputs or "-")}</td>',
        f'<td style="{_CELL}{code}">{escape(", ".join(row.outputs) or "-")}</td>',
        f'<td style="{_CELL}{code}">{escape(params or "-")}</td>',
        f'<td class="status" data-status="{escape(row.status)}" style="{_CELL}{_NOWRAP}'
        f'color: {colour};"{title}>{escape(status)}</td>',
        f'<td style="{_CELL}{_NOWRAP}text-align: right; font-variant-numeric: tabular-nums;">'
        f"{escape(duration)}</td>",
    ]
    return f'<tr data-step="{escape(row.name)}">{"".join(cells)}</tr>'


def message_html(message: Message | None) -> str:
    """The message line, with its detail lines and a folded traceback."""
    if message is None:
        return ""
    colour = COLORS.get(message.kind, FG)
    parts = [f'<div style="color: {colour}; margin: 4px 0;">{escape(message.text)}</div>']
    if message.details:
        items = "".join(f"<li>{escape(line)}</li>" for line in message.details)
        parts.append(f'<ul style="color: {FG}; margin: 2px 0 4px 1.2em;">{items}</ul>')
    if message.traceback:
        parts.append(
            f'<details style="color: {FG};"><summary>traceback</summary>'
            f'<pre style="font-family: {CODE_FONT}; font-size: 0.85em; white-space: pre-wrap;">'
            f"{escape(message.traceback)}</pre></details>"
        )
    return f'<div class="jupyter-mlops-message">{"".join(parts)}</div>'


def header_html(title: str, subtitle: str) -> str:
    """The panel's title line."""
    return (
        f'<div style="color: {FG};"><span style="font-size: 1.15em; font-weight: 600;">'
        f'{escape(title)}</span> <span style="color: {MUTED};">{escape(subtitle)}</span></div>'
    )


def section_title(text: str) -> str:
    """A small heading above a section (DAG, models)."""
    return f'<div style="color: {MUTED}; font-weight: 600; margin-top: 6px;">{escape(text)}</div>'


def note_html(text: str, kind: str = "muted") -> str:
    """One line of text in the given message colour."""
    return f'<p style="color: {COLORS.get(kind, MUTED)}; margin: 4px 0;">{escape(text)}</p>'


def monitoring_line(model: dict[str, Any]) -> str:
    """One model's monitoring in one line (an entry of ``api.monitoring``): its latest
    window's drift and performance, or why there is none."""
    head = f"Monitoring of '{model['name']}': "
    latest = model["latest"]
    if model["problem"] or latest is None:
        return head + (model["problem"] or model["hint"] or "no window recorded")
    columns = latest["drift"]["columns"]
    parts = [f"latest window {latest['start']} – {latest['end']}"]
    if columns:
        drifted = sum(1 for column in columns if column["drifted"])
        parts.append(f"{drifted} of {len(columns)} features drifted")
    if latest["drift"]["dataset_drifted"] is not None:
        parts.append(
            "dataset drifted" if latest["drift"]["dataset_drifted"] else "no dataset drift"
        )
    performance = latest["performance"]
    if performance:
        figures = ", ".join(f"{k}={v:.4g}" for k, v in performance["metrics"].items())
        parts.append(figures + (" (estimated)" if performance["estimated"] else ""))
    if latest["report"]:
        parts.append("report logged in MLflow")
    return head + " · ".join(parts)


def models_table(versions: list[ModelVersionInfo]) -> str:
    """Registered versions: version, aliases, created, training-run metrics, gate outcome."""
    head = "".join(
        f'<th style="{_CELL}text-align: left; background: {HEAD_BG};">{h}</th>'
        for h in ("version", "aliases", "created", "metrics", "gate")
    )
    rows = []
    for v in versions:
        created = datetime.fromtimestamp(v.created_ms / 1000).strftime("%Y-%m-%d %H:%M")
        metrics = ", ".join(f"{k}={value:.4g}" for k, value in v.metrics.items()) or "-"
        aliases = ", ".join(v.aliases) or "-"
        gate_colour = COLORS["error" if v.gate == "rejected" else "success" if v.gate else "muted"]
        reasons = f' title="{escape(v.gate_reasons)}"' if v.gate_reasons else ""
        rows.append(
            f'<tr data-version="{escape(v.version)}"><td style="{_CELL}">{escape(v.version)}</td>'
            f'<td style="{_CELL}font-weight: 600;">{escape(aliases)}</td>'
            f'<td style="{_CELL}{_NOWRAP}">{created}</td>'
            f'<td style="{_CELL}font-family: {CODE_FONT};">{escape(metrics)}</td>'
            f'<td style="{_CELL}color: {gate_colour};"{reasons}>{escape(v.gate or "-")}</td></tr>'
        )
    return (
        '<table class="jupyter-mlops-models" style="border-collapse: collapse; '
        f'color: {FG}; font-size: 0.92em;"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )
