"""The in-notebook panel's one line of monitoring per model, read from monitoring windows
recorded in a real MLflow SQLite store by ``monitor/recording.py``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from monitoring_windows import CLF, monitoring_experiment_in, pipeline, window

from jupyter_mlops.jupyter.panel import html as panel_html
from jupyter_mlops.jupyter.panel.widgets import build_panel
from jupyter_mlops.monitor.recording import record_windows


def test_models_section_has_one_monitoring_line_per_model(tmp_path: Path, tracking_uri: str):
    pipeline(tmp_path)
    monitoring_experiment_in(tracking_uri, CLF, tmp_path)
    record_windows(tracking_uri, CLF, "source-1", [window(0, 0.9), window(1, 0.8, True)],
                   datetime.now(UTC))  # fmt: skip
    panel = build_panel(tmp_path / "work" / "shop.ipynb", tracking_uri=tracking_uri)
    assert panel.wait(120)
    shown = panel.models.value
    assert (
        "Monitoring of &#x27;shop-clf&#x27;: latest window 2026-12-02T09:00:00+00:00 – "
        "2026-12-02T10:00:00+00:00 · 1 of 2 features drifted · dataset drifted · "
        "accuracy=0.8, f1=0.75 (estimated)" in shown
    )
    assert "Monitoring of &#x27;shop-reg&#x27;: not monitored yet: start with `jupyter mlops " in (
        shown
    )


def test_monitoring_line_says_why_there_is_no_window() -> None:
    entry = {"name": "m", "problem": "cannot read", "hint": None, "latest": None}
    assert panel_html.monitoring_line(entry) == "Monitoring of 'm': cannot read"
    entry = {"name": "m", "problem": None, "hint": "start here", "latest": None}
    assert panel_html.monitoring_line(entry) == "Monitoring of 'm': start here"
