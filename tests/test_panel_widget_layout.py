"""%mlops panel's look: wording and paths a user reads, the parameter grid, a Cancel that looks
disabled, table cells never broken inside a name, a short panel, the JupyterLab panel's state
look (checked against labextension/src/core/stepStates.ts), the DAG with states and edge
labels, and the latest run started elsewhere (a real CLI run, then a live record followed
while it runs). Real ipywidgets objects, real runs."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from nbfactory import write_notebook
from test_widgets import wait_for

from jupyter_mlops.execute.live_record import live_dir
from jupyter_mlops.jupyter.panel import html as panel_html
from jupyter_mlops.jupyter.panel.dag_svg import dag_svg
from jupyter_mlops.jupyter.panel.rows import StepRow, shown_path, shown_uri
from jupyter_mlops.jupyter.panel.widgets import build_panel

REPO = Path(__file__).resolve().parents[1]
STEP_STATES = REPO / "labextension" / "src" / "core" / "stepStates.ts"
FORMAT = REPO / "labextension" / "src" / "core" / "format.ts"
TAG = re.compile(r"<[^>]+>")
CELLS: list[str | tuple[str, list[str]]] = [
    ("n_estimators = 3", ["parameters"]),
    "%%mlstep load\nrows = [1, 2, 3]",
    "%%mlstep total\ntotal = sum(rows) * n_estimators",
]

pytestmark = pytest.mark.timeout(300)


def text_of(html: str) -> str:
    return TAG.sub("", html)


@pytest.fixture
def notebook(tmp_path: Path) -> Path:
    return write_notebook(tmp_path / "small.ipynb", CELLS)


def test_header_has_no_internal_wording_and_no_absolute_path(notebook: Path, monkeypatch):
    monkeypatch.chdir(notebook.parent)
    panel = build_panel(notebook.resolve(), found_by="$JPY_SESSION_NAME")
    header = panel.header.value
    assert "found" not in header and "JPY_SESSION_NAME" not in header
    assert str(notebook.parent) not in header
    assert "small.ipynb → pipelines/small/" in text_of(header)
    assert "white-space: normal" in header  # wraps, never cut
    panel.close()


def test_paths_are_shown_relative(tmp_path: Path):
    assert shown_path(tmp_path / "a" / "b.ipynb", tmp_path) == "a/b.ipynb"
    assert shown_path(tmp_path / "x.ipynb", tmp_path / "a" / "b" / "c" / "d") == "x.ipynb"
    assert shown_uri(f"sqlite:///{tmp_path}/mlflow.db", tmp_path) == "sqlite:///mlflow.db"
    assert shown_uri("http://127.0.0.1:5000") == "http://127.0.0.1:5000"


def test_parameters_are_a_grid_of_labels_and_fields(notebook: Path):
    import ipywidgets as w

    panel = build_panel(notebook)
    assert isinstance(panel.params, w.GridBox)
    assert panel.params.layout.grid_template_columns.startswith("max-content")
    label, field = panel.params.children
    assert "n_estimators" in label.value and "int" in label.value
    assert field is panel.param_inputs["n_estimators"] and field.value == "3"
    assert field.description == ""  # the label column names it: fields line up
    panel.close()


def test_the_panel_is_short_secondary_sections_folded(notebook: Path):
    import ipywidgets as w

    panel = build_panel(notebook)
    assert isinstance(panel.secondary, w.Accordion)
    assert panel.secondary.selected_index is None
    assert panel.secondary.children == (panel.models,)
    assert panel.secondary.get_title(0) == "Models and monitoring"
    panel.close()


def test_table_cells_break_between_items_only():
    row = StepRow("train", {"X_train": "split", "y_train": "split"}, ["model"], ["n_estimators"])
    html = panel_html.steps_table([row])
    assert "overflow-wrap: anywhere" not in html and "table-layout: fixed" not in html
    assert '<span style="white-space: nowrap; ">n_estimators</span>' in html
    assert '<span style="white-space: nowrap; ">X_train ← split</span>, ' in html
    head = html.split("</thead>")[0]
    assert head.count("white-space: nowrap") == len(panel_html.COLUMNS)
    assert panel_html.header_html("t", "a/very/long/path").count("overflow-wrap: anywhere") == 1


def _lab_icons() -> dict[str, str]:
    source = STEP_STATES.read_text(encoding="utf-8")
    block = source.split("STATE_ICONS", 1)[1].split("};", 1)[0]
    return dict(re.findall(r"(\w+): '([^']*)'", block))


def _lab_words() -> dict[str, str]:
    source = FORMAT.read_text(encoding="utf-8")
    block = source.split("STATE_LABELS", 1)[1].split("};", 1)[0]
    return dict(re.findall(r"(\w+): '([^']*)'", block))


def test_states_look_as_in_the_jupyterlab_panel():
    icons, words = _lab_icons(), _lab_words()
    for state in ("waiting", "running", "ran", "cached", "failed", "not_run", "cancelled"):
        icon, word, _ = panel_html.STATUS[state]
        assert (icon, word) == (icons[state], words[state]), state
    shown = panel_html.state_html("failed")
    assert "✗" in shown and "failed" in shown and 'aria-hidden="true"' in shown


def test_dag_boxes_show_states_and_edges_name_their_variables():
    rows = [
        StepRow("split", {}, ["X", "y"], [], status="ran"),
        StepRow("train", {"X": "split", "y": "split"}, ["model"], [], status="cached"),
        StepRow("score", {"model": "train"}, [], [], status="running"),
    ]
    svg = dag_svg(rows)
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    states = re.findall(r'<g class="step" data-step="(\w+)" data-status="(\w+)"', svg)
    assert states == [("split", "ran"), ("train", "cached"), ("score", "running")]
    assert "stroke-dasharray" in svg  # cached boxes dashed, as in the JupyterLab panel
    labels = re.findall(r'<g class="edge-label">.*?>([^<>]+)</text></g>', svg)
    assert labels == ["X, y", "model"]
    assert "var(--jp-" in svg and dag_svg([]) == ""


def test_a_cancel_with_nothing_to_cancel_looks_disabled(notebook: Path):
    panel = build_panel(notebook)
    assert panel.cancel_button.disabled and panel.cancel_button.button_style == ""
    panel._set_busy(True)
    assert not panel.cancel_button.disabled and panel.cancel_button.button_style == "warning"
    panel._set_busy(False)
    assert panel.cancel_button.button_style == ""
    panel.close()


def test_a_run_started_from_the_cli_shows_in_the_panel(notebook: Path):
    env = {**os.environ, "JUPYTER_MLOPS_RUN_SOURCE": "cli"}
    done = subprocess.run(
        [sys.executable, "-m", "jupyter_mlops.cli", "run", str(notebook)]
        + ["--engine", "inprocess", "--no-track", "-p", "n_estimators=4"],
        capture_output=True,
        text=True,
        env=env,
        cwd=notebook.parent,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr
    panel = build_panel(notebook)
    wait_for(lambda: "jupyter-mlops-live" in panel.live.value)
    live = panel.live.value
    assert 'data-status="succeeded"' in live, live
    shown = text_of(live)
    assert "Latest run: ✓ succeeded" in shown and "the CLI" in shown
    assert "n_estimators=4" in shown
    panel.close()


def test_a_run_going_on_elsewhere_is_followed_until_it_ends(notebook: Path):
    panel = build_panel(notebook)
    panel.extract_button.click()
    assert panel.wait(120)
    folder = notebook.parent / "pipelines" / "small"
    record = {
        "id": "20261202-211500-1",
        "pipeline": "small",
        "path": str(notebook),
        "source": "panel",
        "params": {"n_estimators": 3},
        "status": "running",
        "recording": False,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "ended": None,
        "elapsed": 0.0,
        "steps": [{"name": "load", "state": "ran", "seconds": 0.1}],
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "log": [],
    }
    path = live_dir(folder) / f"{record['id']}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record))
    panel.refresh()
    wait_for(lambda: 'data-status="running"' in panel.live.value)
    assert "the JupyterLab panel" in text_of(panel.live.value)
    follower = panel._follower
    assert follower is not None and follower.is_alive()  # reading it again while it runs
    path.write_text(
        json.dumps({**record, "status": "failed", "error": "boom", "failed_step": "total"})
    )
    wait_for(lambda: 'data-status="failed"' in panel.live.value)
    follower.join(60)
    assert not follower.is_alive()  # the follower stops once the run has ended
    assert "step &#x27;total&#x27;: boom" in panel.live.value
    panel.close()
