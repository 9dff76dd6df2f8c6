"""%mlops panel: the ipywidgets panel on real notebooks, real runs (in-process engine), real
MLflow store, and once in a real kernel under papermill (the widget state it renders)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from mlflow_fixtures import assert_no_global_store
from nbfactory import write_notebook

from jupyter_mlops.authoring.stepline import parse_step_line
from jupyter_mlops.jupyter.magics import MlopsMagics
from jupyter_mlops.jupyter.panel import html as panel_html
from jupyter_mlops.jupyter.panel.rows import StepRow, parse_param_texts, rows_from_session
from jupyter_mlops.jupyter.panel.state import NO_NOTEBOOK, PanelModel
from jupyter_mlops.jupyter.panel.widgets import Panel, build_panel
from jupyter_mlops.jupyter.session import StepSession
from jupyter_mlops.pipeline.params import ParameterError

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "notebooks" / "classification.ipynb"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
STATUS_CELL = re.compile(r'data-status="(\w+)"')
RUN_TIMEOUT = 240

pytestmark = pytest.mark.timeout(600)


def statuses(panel: Panel) -> dict[str, str]:
    return {row.name: row.status for row in panel.model.snapshot()}


def text_of(html: str) -> str:
    """The text a reader sees (tags dropped)."""
    return re.sub(r"<[^>]+>", "", html)


def table_statuses(panel: Panel) -> list[str]:
    return STATUS_CELL.findall(panel.steps.value)


def click_and_wait(panel: Panel, button) -> None:  # type: ignore[no-untyped-def]
    button.click()
    assert panel.wait(RUN_TIMEOUT), "the panel's background work did not finish"


def wait_for(condition, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """A copy of the classification example (tests set n_estimators small in the panel)."""
    notebook = tmp_path / "classification.ipynb"
    shutil.copyfile(EXAMPLE, notebook)
    return notebook


@pytest.fixture(scope="module")
def ipython() -> InteractiveShell:
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "jupyter_mlops")
    return shell


def magics(shell: InteractiveShell) -> MlopsMagics:
    instance = shell.magics_manager.registry["MlopsMagics"]
    assert isinstance(instance, MlopsMagics)
    return instance


# --------------------------------------------------------------------------- core, no widgets


def test_session_rows_take_inputs_from_the_latest_earlier_writer():
    session = StepSession()
    for line, reads, writes in [
        ("load", [], ["df"]),
        ("clean", ["df"], ["df"]),
        ("train", ["df", "n"], ["model"]),
    ]:
        session.record(parse_step_line(line), "", reads, writes, 0.25, {})
    rows = rows_from_session(session.steps)
    assert [(r.name, r.inputs, r.outputs, r.params) for r in rows] == [
        ("load", {}, ["df"], None),
        ("clean", {"df": "load"}, ["df"], None),
        ("train", {"df": "clean"}, ["model"], None),
    ]
    assert {r.status for r in rows} == {"session_ok"}


def test_parameter_fields_parse_as_literals_and_an_empty_one_is_refused():
    declared = {"n": 100, "rate": 0.5, "label": "y"}
    values = parse_param_texts(
        {"n": " 10 ", "rate": "1e-3", "label": "target", "gone": "1"}, declared
    )
    assert values == {"n": 10, "rate": 0.001, "label": "target"}
    with pytest.raises(ParameterError, match=r"parameter 'rate' is empty.*0\.5"):
        parse_param_texts({"rate": "  "}, declared)


def test_steps_table_keeps_its_status_widths_and_escapes_values():
    row = StepRow("train", {"X<1>": "split"}, ["model"], ["n"], status="running", started=10.0)
    html = panel_html.steps_table([row], now=13.25)
    assert html.count("<col") - html.count("<colgroup") == len(panel_html.COLUMNS)
    assert "X&lt;1&gt; ← split" in html
    assert "▶ running" in text_of(html) and "3.2 s" in html
    row.status, row.started, row.seconds = "failed", None, 1.5
    row.error = "ValueError: <bad>"
    html2 = panel_html.steps_table([row])
    assert 'title="ValueError: &lt;bad&gt;"' in html2 and "✗ failed" in text_of(html2)
    # the same column widths whatever the state: no layout jumps while a run updates
    assert html.split("</colgroup>")[0] == html2.split("</colgroup>")[0]


# --------------------------------------------------------------------------- the panel


def test_panel_shows_steps_params_dag_from_the_saved_notebook(example: Path):
    panel = build_panel(example)
    assert "Pipeline classification" in panel.header.value
    assert {name: field.value for name, field in panel.param_inputs.items()} == {
        "test_size": "0.25",
        "n_estimators": "100",
        "max_depth": "5",
        "threshold": "0.5",
    }
    html = panel.steps.value
    assert re.findall(r'data-step="(\w+)"', html) == [
        "load_data",
        "features",
        "split",
        "train",
        "evaluate",
    ]
    assert "X_test ← split, model ← train, y_test ← split" in text_of(html)
    assert "max_depth, n_estimators" in text_of(html)
    assert panel.dag.value.startswith("<svg") and "evaluate" in panel.dag.value
    assert not panel.run_button.disabled and panel.cancel_button.disabled
    panel.wait(60)
    assert "No MLflow store" in panel.models.value  # nothing created just by looking


def test_magic_opens_the_panel_and_run_button_runs_every_step(
    ipython: InteractiveShell, example: Path, tracking_uri: str, tmp_path: Path, monkeypatch
):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking_uri)
    with capture_output() as shown:
        ipython.run_line_magic("mlops", f"panel {example}")
    assert WIDGET_MIME in shown.outputs[0].data
    panel = magics(ipython).panel
    assert isinstance(panel, Panel)
    assert shown.outputs[0].data[WIDGET_MIME]["model_id"] == panel.widget.model_id

    panel.param_inputs["n_estimators"].value = "5"
    click_and_wait(panel, panel.run_button)
    assert panel.model.message is not None, panel.message.value
    assert panel.model.message.kind == "success", panel.message.value
    assert set(statuses(panel).values()) == {"ran"}
    assert table_statuses(panel) == ["ran"] * 5
    assert text_of(panel.steps.value).count("✓ done") == 5
    assert "registered model version 1" in panel.message.value
    assert panel.model.result is not None
    assert panel.model.result.params["n_estimators"] == 5
    assert (tmp_path / "pipelines" / "classification" / "pipeline.yaml").is_file()
    models = panel.models.value
    assert 'data-version="1"' in models and "challenger" in models and "accuracy=" in models
    assert "n_estimators=5" in models  # the parameters of the run that trained it
    assert not panel.run_button.disabled and panel.cancel_button.disabled

    click_and_wait(panel, panel.run_button)  # nothing changed: every step from the cache
    assert table_statuses(panel) == ["cached"] * 5
    assert "succeeded: 5 cached" in panel.message.value
    assert_no_global_store(tmp_path)


def test_unreadable_tracking_store_is_one_line_in_the_models_section(example: Path, tmp_path):
    broken = tmp_path / "broken.db"
    broken.write_text("not a database")
    panel = build_panel(example, tracking_uri=f"sqlite:///{broken}")
    assert panel.wait(120)
    assert "cannot list the versions of model &#x27;classification&#x27;" in panel.models.value
    assert "<br" not in panel.models.value and "Traceback" not in panel.models.value


def test_extraction_errors_are_listed_with_cell_and_step(tmp_path: Path):
    notebook = write_notebook(
        tmp_path / "broken.ipynb",
        ["%%mlstep load\nrows = [1, 2]", "%%mlstep total\ntotal = sum(rowz)"],
    )
    panel = build_panel(notebook, output_dir=tmp_path / "out")
    message = panel.message.value
    assert "1 extraction error in" in message
    assert "cell 2, step &#x27;total&#x27;" in message and "rowz" in message
    assert "No steps to show" in panel.steps.value
    click_and_wait(panel, panel.extract_button)
    assert "rowz" in panel.message.value
    assert not (tmp_path / "out").exists()  # nothing half-written
    click_and_wait(panel, panel.run_button)
    assert "rowz" in panel.message.value and panel.model.result is None


def test_extract_button_writes_the_package(example: Path, tmp_path: Path):
    panel = build_panel(example, output_dir=tmp_path / "pkg")
    click_and_wait(panel, panel.extract_button)
    assert "Extracted 5 steps into" in panel.message.value
    assert (tmp_path / "pkg" / "pipeline.yaml").is_file()
    click_and_wait(panel, panel.extract_button)
    assert "(no file changed)" in panel.message.value


SLOW = [
    "import time",
    ("pause = 1.5", ["parameters"]),
    "%%mlstep first\ntime.sleep(pause)\nvalue = 1",
    "%%mlstep second\nresult = value + 1",
]


def test_failed_step_shows_its_error_and_traceback(tmp_path: Path):
    cells = [*SLOW[:3], "%%mlstep second\nresult = value / 0"]
    notebook = write_notebook(tmp_path / "fails.ipynb", cells)
    panel = build_panel(notebook)
    panel.param_inputs["pause"].value = "0"
    panel.track.value = False
    click_and_wait(panel, panel.run_button)
    assert statuses(panel) == {"first": "ran", "second": "failed"}
    assert "step &#x27;second&#x27; (notebook cell 4) failed" in panel.message.value
    assert "<summary>traceback</summary>" in panel.message.value
    assert "ZeroDivisionError" in panel.message.value
    assert 'title="ZeroDivisionError: division by zero"' in panel.steps.value


def test_cancel_lets_the_running_step_finish_and_starts_no_other(tmp_path: Path):
    notebook = write_notebook(tmp_path / "slow.ipynb", SLOW)
    panel = build_panel(notebook)
    panel.track.value = False
    panel.run_button.click()
    wait_for(lambda: statuses(panel)["first"] == "running", timeout=RUN_TIMEOUT)
    assert not panel.cancel_button.disabled and panel.run_button.disabled
    assert "▶ running" in text_of(panel.steps.value)
    assert panel.cancel_button.button_style == "warning"
    panel.cancel_button.click()
    assert panel.wait(RUN_TIMEOUT)
    assert statuses(panel) == {"first": "ran", "second": "cancelled"}
    assert "Cancelled" in panel.message.value and panel.model.result is None
    assert panel.cancel_button.disabled and not panel.run_button.disabled
    assert panel.cancel_button.button_style == ""  # disabled, and looks it

    click_and_wait(panel, panel.run_button)  # the finished step was kept
    assert statuses(panel) == {"first": "cached", "second": "ran"}


def test_papermill_engine_from_the_menu_keeps_step_reports(tmp_path: Path, kernel_name):
    notebook = write_notebook(tmp_path / "slow.ipynb", SLOW)
    panel = build_panel(notebook)
    panel.param_inputs["pause"].value = "0"
    panel.track.value, panel.engine.value = False, "papermill"
    click_and_wait(panel, panel.run_button)
    assert statuses(panel) == {"first": "ran", "second": "ran"}, panel.message.value
    result = panel.model.result
    assert result is not None
    report = result.steps["second"].report
    assert report is not None and report.suffix == ".ipynb" and report.is_file()


def test_bad_parameter_field_is_refused_before_anything_runs(example: Path, tmp_path: Path):
    panel = build_panel(example, output_dir=tmp_path / "pkg")
    panel.param_inputs["max_depth"].value = ""
    click_and_wait(panel, panel.run_button)
    assert "parameter &#x27;max_depth&#x27; is empty" in panel.message.value
    assert not (tmp_path / "pkg").exists()
    assert set(statuses(panel).values()) == {"idle"}


def test_without_a_notebook_the_panel_shows_the_session_steps(ipython, monkeypatch, tmp_path):
    for name in ("JUPYTER_MLOPS_NOTEBOOK", "JPY_SESSION_NAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(
        "jupyter_mlops.jupyter.notebook_tracking.parent_process_notebook", lambda: None
    )
    monkeypatch.chdir(tmp_path)
    magics(ipython).session.clear()
    ipython.run_cell("%%mlstep load\nrows = [1, 2, 3]", store_history=True)
    ipython.run_cell("%%mlstep total\ntotal = sum(rows)", store_history=True)
    with capture_output():
        ipython.run_line_magic("mlops", "panel")
    panel = magics(ipython).panel
    assert isinstance(panel, Panel)
    assert "Steps run in this session" in panel.header.value
    assert "rows ← load" in panel.steps.value
    assert table_statuses(panel) == ["session_ok", "session_ok"]
    assert panel.param_inputs == {}
    click_and_wait(panel, panel.run_button)
    assert "the notebook is not known" in panel.message.value
    assert NO_NOTEBOOK.startswith("the notebook is not known")


def test_session_state_shows_beside_the_pipeline_steps(example: Path):
    session = StepSession()
    session.record(parse_step_line("load_data"), "", [], ["df"], 0.5, {})
    session.record(parse_step_line("features"), "", ["df"], ["df"], 0.1, {}, ValueError("x"))
    model = PanelModel(example, session_steps=lambda: session.steps)
    assert model.refresh()
    assert [r.status for r in model.rows[:3]] == ["session_ok", "session_failed", "idle"]


@pytest.mark.parametrize(
    ("args", "message"),
    [("a.ipynb b.ipynb", "usage: %mlops panel [NOTEBOOK]"), ("missing.ipynb", "no such notebook")],
)
def test_panel_magic_bad_arguments(ipython, args, message):
    with pytest.raises(UsageError, match=re.escape(message)):
        ipython.run_line_magic("mlops", f"panel {args}")


# --------------------------------------------------------------------------- lazy imports


def test_load_ext_does_not_import_ipywidgets_and_the_panel_not_mlflow(example: Path):
    script = f"""
import sys
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
shell.run_line_magic("load_ext", "jupyter_mlops")
loaded = [m for m in ("ipywidgets", "mlflow") if m in sys.modules]
shell.run_line_magic("mlops", "panel {example}")
shell.magics_manager.registry["MlopsMagics"].panel.wait(60)
print("RESULT", loaded, "ipywidgets" in sys.modules, "mlflow" in sys.modules)
"""
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    assert proc.stdout.split("RESULT ", 1)[1].strip() == "[] True False"


# --------------------------------------------------------------------------- real kernel


def test_panel_in_a_real_kernel_renders_and_runs(example: Path, tmp_path: Path, kernel_name):
    """papermill runs a notebook that opens the panel and clicks Run inside a real kernel;
    the widget state saved in the executed notebook shows every step done."""
    import papermill

    driver = write_notebook(
        tmp_path / "driver.ipynb",
        [
            "%load_ext jupyter_mlops",
            f"%mlops panel {example.name}",
            "panel = get_ipython().magics_manager.registry['MlopsMagics'].panel\n"
            "panel.param_inputs['n_estimators'].value = '5'\n"
            "panel.track.value = False\n"
            "panel.run_button.click()\n"
            f"assert panel.wait({RUN_TIMEOUT})\n"
            "print(sorted({r.status for r in panel.model.snapshot()}))",
        ],
    )
    out = tmp_path / "driver.out.ipynb"
    papermill.execute_notebook(
        str(driver), str(out), kernel_name=kernel_name, cwd=str(tmp_path), progress_bar=False
    )
    executed = json.loads(out.read_text())
    outputs = executed["cells"][1]["outputs"]
    assert any(WIDGET_MIME in o.get("data", {}) for o in outputs)
    assert "".join(executed["cells"][2]["outputs"][0]["text"]) == "['ran']\n"
    state = executed["metadata"]["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    htmls = [m["state"].get("value", "") for m in state.values() if m["model_name"] == "HTMLModel"]
    table = next(h for h in htmls if "jupyter-mlops-steps" in h)
    assert STATUS_CELL.findall(table) == ["ran"] * 5
