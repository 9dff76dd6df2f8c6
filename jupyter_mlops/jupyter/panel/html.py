"""HTML of the in-notebook panel: steps table, messages, model versions (core, no widgets).

Inline styles only (front ends may drop ``<style>`` blocks), coloured through JupyterLab's
CSS variables with neutral fallbacks, so light and dark themes, Notebook 7 and VS Code
all read well. A step's state looks as in the JupyterLab panel (labextension/src/core/
stepStates.ts): an icon in the state's colour and a word, never colour alone. Table cells
break only between items (``X_train ← split, y_train ← split``), never inside a name; the
status and duration columns have fixed widths and never wrap, so a run's updates never move
the layout.
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
MUTED = "var(--jp-ui-font-color2, #616161)"
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
# status -> (icon, word, colour of the icon): the JupyterLab panel's look (stepStates.ts,
# format.ts stateLabel); the word is in the text colour (failed: the error colour).
STATUS = {
    "idle": ("", "", "muted"),
    StepStatus.WAITING: ("…", "waiting", "muted"),
    StepStatus.RUNNING: ("▶", "running", "info"),
    StepStatus.RAN: ("✓", "done", "success"),
    StepStatus.CACHED: ("=", "cached", "success"),
    StepStatus.FAILED: ("✗", "failed", "error"),
    StepStatus.NOT_RUN: ("–", "not run", "warning"),
    "cancelled": ("⊘", "cancelled", "warning"),
    "session_ok": ("✓", "ran in notebook", "muted"),
    "session_failed": ("✗", "failed in notebook", "error"),
}
# (header, width): status and duration have fixed widths; the other columns share the rest.
COLUMNS = (
    ("step", ""),
    ("inputs ← producer", ""),
    ("outputs", ""),
    ("params", ""),
    ("status", "9.5em"),
    ("duration", "5.5em"),
)
_CELL = f"padding: 3px 6px; border-bottom: 1px solid {BORDER}; vertical-align: top; "
_NOWRAP = "white-space: nowrap; "
_ITEM = "white-space: nowrap; "  # one item of a list cell: the cell breaks between items


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


def state_html(status: str, text: str | None = None) -> str:
    """A state as the JupyterLab panel shows it: the icon in the state's colour, the word."""
    symbol, label, colour = STATUS.get(status, ("?", status, "muted"))
    word = label if text is None else text
    word_colour = COLORS["error"] if colour == "error" else FG
    icon = (
        f'<span aria-hidden="true" style="color: {COLORS[colour]}; font-weight: 700; '
        f'display: inline-block; width: 1.1em; text-align: center;">{escape(symbol)}</span>'
    )
    return f'{icon} <span style="color: {word_colour};">{escape(word)}</span>'


def steps_table(rows: list[StepRow], now: float | None = None) -> str:
    """The steps table; a failed step's error is the tooltip of its status cell."""
    if not rows:
        return f'<p style="color: {MUTED}; margin: 4px 0;">No steps to show.</p>'
    cols = "".join(f'<col style="width: {width};">' if width else "<col>" for _, width in COLUMNS)
    head = "".join(
        f'<th style="{_CELL}{_NOWRAP}text-align: left; background: {HEAD_BG};">{escape(h)}</th>'
        for h, _ in COLUMNS
    )
    body = "".join(_row_html(row, now) for row in rows)
    return (
        '<table class="jupyter-mlops-steps" style="width: 100%; line-height: 1.4; '
        f'border-collapse: collapse; color: {FG}; font-size: 0.92em;">'
        f"<colgroup>{cols}</colgroup><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def _items(values: list[str]) -> str:
    """A list cell: items kept whole, the line breaking only after a comma."""
    if not values:
        return f'<span style="color: {MUTED};">-</span>'
    return ", ".join(f'<span style="{_ITEM}">{escape(v)}</span>' for v in values)


def _row_html(row: StepRow, now: float | None) -> str:
    status, duration = status_text(row, now)
    inputs = [f"{var} ← {producer}" for var, producer in row.inputs.items()]
    params = ["?"] if row.params is None else row.params
    title = f' title="{escape(row.error)}"' if row.error else ""
    code = f"font-family: {CODE_FONT}; word-break: normal; overflow-wrap: normal; "
    symbol_word = status.split(" ", 1)
    shown = state_html(row.status, symbol_word[1] if len(symbol_word) > 1 else "")
    cells = [
        f'<td style="{_CELL}{code}{_NOWRAP}font-weight: 600;">{escape(row.name)}</td>',
        f'<td style="{_CELL}{code}">{_items(inputs)}</td>',
        f'<td style="{_CELL}{code}">{_items(row.outputs)}</td>',
        f'<td style="{_CELL}{code}">{_items(params)}</td>',
        f'<td class="status" data-status="{escape(row.status)}" style="{_CELL}{_NOWRAP}"'
        f"{title}>{shown if status else ''}</td>",
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
    """The panel's title line: it wraps (the subtitle's paths may break anywhere), never cut."""
    return (
        f'<div style="color: {FG}; white-space: normal; line-height: 1.4;">'
        f'<span style="font-size: 1.15em; font-weight: 600;">{escape(title)}</span> '
        f'<span style="color: {MUTED}; overflow-wrap: anywhere;">{escape(subtitle)}</span></div>'
    )


def section_title(text: str) -> str:
    """A section's heading (Steps, DAG, …), the JupyterLab panel's look."""
    return (
        f'<div style="color: {FG}; font-weight: 600; margin: 6px 0 2px; '
        f'border-top: 1px solid {BORDER}; padding-top: 4px;">{escape(text)}</div>'
    )


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
    """Registered versions: version, aliases, created, the training run's parameters and
    metrics, gate outcome."""
    head = "".join(
        f'<th style="{_CELL}{_NOWRAP}text-align: left; background: {HEAD_BG};">{h}</th>'
        for h in ("version", "aliases", "created", "parameters", "metrics", "gate")
    )
    rows = []
    for v in versions:
        created = datetime.fromtimestamp(v.created_ms / 1000).strftime("%Y-%m-%d %H:%M")
        params = [f"{k}={value}" for k, value in v.params.items()]
        metrics = [f"{k}={value:.4g}" for k, value in v.metrics.items()]
        aliases = ", ".join(v.aliases) or "-"
        gate_colour = COLORS["error" if v.gate == "rejected" else "success" if v.gate else "muted"]
        reasons = f' title="{escape(v.gate_reasons)}"' if v.gate_reasons else ""
        rows.append(
            f'<tr data-version="{escape(v.version)}">'
            f'<td style="{_CELL}{_NOWRAP}">{escape(v.version)}</td>'
            f'<td style="{_CELL}{_NOWRAP}font-weight: 600;">{escape(aliases)}</td>'
            f'<td style="{_CELL}{_NOWRAP}">{created}</td>'
            f'<td style="{_CELL}font-family: {CODE_FONT};">{_items(params)}</td>'
            f'<td style="{_CELL}font-family: {CODE_FONT};">{_items(metrics)}</td>'
            f'<td style="{_CELL}{_NOWRAP}color: {gate_colour};"{reasons}>'
            f"{escape(v.gate or '-')}</td></tr>"
        )
    return (
        '<table class="jupyter-mlops-models" style="border-collapse: collapse; line-height: 1.4; '
        f'color: {FG}; font-size: 0.92em;"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


# a run's status (live record) -> the step state whose look it takes
_RUN_LOOK = {
    "running": StepStatus.RUNNING,
    "succeeded": StepStatus.RAN,
    "failed": StepStatus.FAILED,
    "cancelled": "cancelled",
}
_SOURCES = {"panel": "the JupyterLab panel", "widget": "a notebook panel", "cli": "the CLI"}


def local_time(stamp: str | None) -> str:
    """An ISO UTC time (``…Z``) as local ``YYYY-mm-dd HH:MM:SS``; '' when missing or bad."""
    if not stamp:
        return ""
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return ""
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def live_run_html(record: dict[str, Any]) -> str:
    """The latest run of the pipeline wherever it was started (a live record of
    ``api.live_runs``): state, where from, when, steps done, parameters, why it failed."""
    status = str(record.get("status") or "")
    steps = record.get("steps") or []
    done = sum(1 for step in steps if step.get("state") in ("ran", "cached"))
    source = str(record.get("source") or "")
    parts = [f"started from {_SOURCES.get(source, source.upper() or 'elsewhere')}"]
    if started := local_time(record.get("started")):
        parts.append(started)
    if status == "running":
        parts.append(f"{done} of {len(steps)} steps done")
        if record.get("recording"):
            parts.append("recording in MLflow")
    params = record.get("params") or {}
    if params:
        parts.append(", ".join(f"{name}={value!r}" for name, value in params.items()))
    look = state_html(_RUN_LOOK.get(status, "idle"), status)
    line = (
        f'<div class="jupyter-mlops-live" data-run="{escape(str(record.get("id", "")))}" '
        f'data-status="{escape(status)}" style="color: {FG}; margin: 4px 0;">'
        f"Latest run: {look} "
        f'<span style="color: {MUTED};">· {escape(" · ".join(parts))}</span></div>'
    )
    if status == "failed" and record.get("error"):
        where = f"step '{record['failed_step']}': " if record.get("failed_step") else ""
        line += note_html(f"{where}{record['error']}", "error")
    return line
