"""ipywidgets adapter: ``%mlops panel`` shows a notebook's pipeline inside the notebook.

Header (paths relative to the working folder), parameters (a grid of labels and ``Text``
fields pre-filled from the parameters cell), Refresh / Extract / Run / Cancel buttons, the
latest run of the pipeline started elsewhere (CLI, the JupyterLab panel: its live record),
the steps table with live per-step progress beside the DAG (the JupyterLab panel's state
look), and, folded in an Accordion, the registered model versions with one line of
monitoring per model. Only standard ipywidgets 8 widgets (HTML, Text, Button, Dropdown,
Checkbox, Label, HBox, VBox, GridBox, Accordion) and no front-end code of our own, so it
works wherever ipywidgets does: JupyterLab, Notebook 7, VS Code. ipywidgets is imported when
a panel is built, never by ``%load_ext``; mlflow only when a store exists to list models from.

Extract and Run work in a background thread, so the notebook stays usable during a run.
Run uses the ``inprocess`` engine by default (no kernel start per step, no papermill import
in this kernel); pick ``papermill`` to keep each executed step notebook as a report. What
Cancel does is described in ``state.py``. Logic lives in ``state.py`` (``PanelModel``).
"""

from __future__ import annotations

import shlex
import threading
from collections.abc import Callable
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jupyter_mlops import api
from jupyter_mlops.errors import MlopsError, NotebookError
from jupyter_mlops.execute.status import StepStatus
from jupyter_mlops.jupyter.panel import html as panel_html
from jupyter_mlops.jupyter.panel.dag_svg import dag_svg
from jupyter_mlops.jupyter.panel.rows import param_text, shown_path, shown_uri
from jupyter_mlops.jupyter.panel.state import DEFAULT_ENGINE, ENGINES, PanelModel

if TYPE_CHECKING:
    from jupyter_mlops.jupyter.session import StepRecord, StepSession

TICK_SECONDS = 0.5  # how often elapsed times of running steps are redrawn
LIVE_POLL_SECONDS = 1.0  # how often a run going on elsewhere is read again
OWN_SOURCE = "widget"  # the live records' source of runs started from these panels


def open_panel(shell: Any, session: StepSession, args: str = "") -> Panel:
    """The panel for ``%mlops panel [NOTEBOOK]``: the given notebook, else the one this
    kernel runs (found like notebook tracking finds it), else the session's steps."""
    from jupyter_mlops.jupyter.notebook_tracking import find_notebook

    words = shlex.split(args)
    if len(words) > 1:
        raise MlopsError(f"usage: %mlops panel [NOTEBOOK] (got '{args}')")
    if words:
        notebook: Path | None = Path(words[0]).expanduser()
        found_by = "given"
        if not notebook.is_file():  # type: ignore[union-attr]
            raise NotebookError("no such notebook", path=words[0])
    else:
        notebook, found_by = find_notebook(shell.user_ns)
        if notebook is not None and not notebook.is_file():
            found_by = f"{shown_path(notebook)} is not saved yet"
            notebook = None
    return build_panel(notebook, found_by=found_by, session_steps=lambda: session.steps)


def build_panel(
    notebook: str | Path | None,
    *,
    found_by: str = "given",
    session_steps: Callable[[], list[StepRecord]] = list,
    output_dir: str | Path | None = None,
    tracking_uri: str | None = None,
    engine: str = DEFAULT_ENGINE,
) -> Panel:
    """A panel on ``notebook`` (None: the session's steps); call ``display(panel)``."""
    model = PanelModel(
        notebook,
        found_by=found_by,
        session_steps=session_steps,
        output_dir=output_dir,
        tracking_uri=tracking_uri,
    )
    return Panel(model, engine=engine)


class Panel:
    """The widgets of one panel, drawn from a :class:`PanelModel`; ``widget`` is the VBox."""

    def __init__(self, model: PanelModel, engine: str = DEFAULT_ENGINE) -> None:
        import ipywidgets as w

        self.model = model
        self._lock = threading.RLock()
        self._threads: list[threading.Thread] = []
        self._working = threading.Event()  # set from a click until its action ends
        self._dag_shown: str | None = None
        self._defaults: dict[str, str] = {}
        self._closed = threading.Event()
        self._follower: threading.Thread | None = None
        self.header = w.HTML()
        self.param_inputs: dict[str, Any] = {}
        self.params = w.GridBox(
            layout=w.Layout(
                grid_template_columns="max-content minmax(8em, 22em)",
                grid_gap="2px 12px",
                align_items="center",
            )
        )
        self.refresh_button = self._button("Refresh", "re-read the saved notebook and models")
        self.extract_button = self._button("Extract", "write the pipeline package")
        self.run_button = self._button("Run", "extract, then run the pipeline", "primary")
        self.cancel_button = self._button("Cancel", "no run to cancel")
        self.cancel_button.disabled = True
        self.engine = w.Dropdown(
            options=list(ENGINES), value=engine, description="engine", layout={"width": "200px"}
        )
        self.track = w.Checkbox(value=True, description="record in MLflow", indent=False)
        self.message = w.HTML()
        self.live = w.HTML()
        self.steps = w.HTML(layout={"flex": "1 1 420px", "min_width": "0"})
        self.dag = w.HTML(layout={"flex": "0 1 auto", "min_width": "0"})
        self.models = w.HTML()
        buttons = [self.refresh_button, self.extract_button, self.run_button, self.cancel_button]
        controls = w.HBox([*buttons, self.engine, self.track], layout={"flex_flow": "row wrap"})
        self.secondary = w.Accordion(children=[self.models], titles=("Models and monitoring",))
        self.secondary.selected_index = None  # folded: the panel stays short
        self.widget = w.VBox(
            [
                self.header,
                w.HTML(panel_html.section_title("Parameters")),
                self.params,
                controls,
                self.message,
                self.live,
                w.HTML(panel_html.section_title("Steps and DAG")),
                w.HBox(
                    [self.steps, self.dag],
                    layout={"flex_flow": "row wrap", "align_items": "flex-start"},
                ),
                self.secondary,
            ],
            layout={"padding": "4px 8px", "width": "100%"},
        )
        self.widget.add_class("jupyter-mlops-panel")
        self.refresh_button.on_click(lambda _: self.refresh())
        self.extract_button.on_click(lambda _: self._start(self.model.extract))
        self.run_button.on_click(lambda _: self._start(self._run, tick=True))
        self.cancel_button.on_click(lambda _: self.model.cancel())
        model.subscribe(self.render)
        self.refresh()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    # ---------------------------------------------------------------- actions

    def refresh(self) -> None:
        """Re-read the notebook (quick, in this thread), then the models and the latest run
        started elsewhere (in the background)."""
        self.model.refresh()
        self.render()
        self._background(self.load_models)
        self._follow_live_runs()

    def close(self) -> None:
        """Stop following runs started elsewhere and close the widgets."""
        self._closed.set()
        self.widget.close()

    def latest_run_elsewhere(self) -> dict[str, Any] | None:
        """The newest live record of the pipeline not started from a notebook panel; None
        before extraction or when there is none."""
        folder = self.model.folder
        if self.model.pipeline is None or folder is None or not folder.is_dir():
            return None
        try:
            records = api.live_runs(folder)
        except MlopsError:
            return None
        return next((r for r in records if r.get("source") != OWN_SOURCE), None)

    def _follow_live_runs(self) -> None:
        """Start following the latest run started elsewhere (one follower at a time; not part
        of ``wait``: a run elsewhere may last long)."""
        if self._follower is not None and self._follower.is_alive():
            return
        self._follower = threading.Thread(
            target=self.follow_live_run, name="mlops-panel-live", daemon=True
        )
        self._follower.start()

    def follow_live_run(self) -> None:
        """Show the latest run started elsewhere; while it runs, read it again every
        ``LIVE_POLL_SECONDS`` until it ends or the panel is closed."""
        while True:
            record = self.latest_run_elsewhere()
            self.live.value = panel_html.live_run_html(record) if record else ""
            if record is None or record.get("status") != "running":
                return
            if self._closed.wait(LIVE_POLL_SECONDS):
                return

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for background work (a run, loading models); False if still busy."""
        for thread in list(self._threads):
            thread.join(timeout)
        return not any(thread.is_alive() for thread in self._threads)

    def param_values(self) -> dict[str, str]:
        """The parameter fields as typed."""
        return {name: field.value for name, field in self.param_inputs.items()}

    def _run(self) -> None:
        result = self.model.run(self.param_values(), self.engine.value, self.track.value)
        if result is not None:
            self.load_models()

    def _start(self, action: Callable[[], object], tick: bool = False) -> None:
        if self._working.is_set() or self.model.busy:
            return
        self._working.set()
        self._set_busy(True)

        def work() -> None:
            done = threading.Event()
            if tick:
                self._background(lambda: self._tick(done))
            try:
                action()
            finally:
                done.set()
                self._set_busy(False)
                self._working.clear()
                self.render()

        self._background(work)

    def _background(self, target: Callable[[], None]) -> None:
        self._threads = [t for t in self._threads if t.is_alive()]
        thread = threading.Thread(target=target, name="mlops-panel", daemon=True)
        self._threads.append(thread)
        thread.start()

    def _tick(self, done: threading.Event) -> None:
        while not done.wait(TICK_SECONDS):
            if any(row.status == StepStatus.RUNNING for row in self.model.snapshot()):
                self.render_steps()

    def _set_busy(self, busy: bool) -> None:
        for button in (self.refresh_button, self.extract_button, self.run_button):
            button.disabled = busy
        # a disabled Cancel has no warning colour, so it does not look pressable
        cancel = self.cancel_button
        cancel.disabled = not busy
        cancel.button_style = "warning" if busy else ""
        cancel.tooltip = "stop at the next step boundary" if busy else "no run to cancel"

    def load_models(self) -> None:
        """Show the registered versions of every model of the pipeline (when a store exists)."""
        from jupyter_mlops.registry.versions import store_configured

        try:
            names = self.model.model_names()
        except MlopsError as error:  # e.g. two steps registering the same model name
            self.models.value = panel_html.note_html(str(error), "error")
            return
        if not names:
            self.models.value = panel_html.note_html("No pipeline: no model to show.")
            return
        uri = self.model.tracking_uri()
        if not store_configured(uri):
            self.models.value = panel_html.note_html(
                f"No MLflow store at {shown_uri(uri)} yet: a run with 'record in MLflow' "
                "creates it."
            )
            return
        self.models.value = panel_html.note_html(f"Loading versions of {', '.join(names)}…")
        sections = [self._model_section(uri, name, titled=len(names) > 1) for name in names]
        self.models.value = "".join(sections) + self._monitoring_lines()

    def _monitoring_lines(self) -> str:
        """One line per model: its latest monitoring window, or how to start monitoring it."""
        try:
            models = self.model.monitoring()
        except MlopsError as error:
            return panel_html.note_html(f"Monitoring: {error}", "error")
        return "".join(panel_html.note_html(panel_html.monitoring_line(m)) for m in models)

    @staticmethod
    def _model_section(uri: str, name: str, titled: bool) -> str:
        """The versions table of registered model ``name`` (titled when there are several)."""
        from jupyter_mlops.registry.versions import list_model_versions

        title = panel_html.note_html(f"Model '{name}'", "info") if titled else ""
        try:
            versions = list_model_versions(uri, name)
        except MlopsError as error:
            return title + panel_html.note_html(str(error), "error")
        if not versions:
            return title + panel_html.note_html(
                f"No registered versions of model '{name}' in {shown_uri(uri)} yet "
                "(a run whose step declares --model registers one)."
            )
        return title + panel_html.models_table(versions)

    # ---------------------------------------------------------------- drawing

    def render(self) -> None:
        """Draw everything from the model (called after every change)."""
        with self._lock:
            self.header.value = panel_html.header_html(*self._title())
            self._sync_params()
            self.message.value = panel_html.message_html(self.model.message)
            self.render_steps()

    def render_steps(self) -> None:
        """Redraw the steps table and the DAG (its boxes show the steps' states)."""
        with self._lock:
            rows = self.model.snapshot()
            self.steps.value = panel_html.steps_table(rows)
            svg = dag_svg(rows) or panel_html.note_html("No steps yet.")
            if svg != self._dag_shown:  # ticks change durations only: the graph stays
                self._dag_shown = self.dag.value = svg

    def _title(self) -> tuple[str, str]:
        model = self.model
        notebook = model.notebook
        if model.pipeline is not None and notebook is not None:
            folder = f" → {shown_path(model.folder, notebook.parent)}/" if model.folder else ""
            return f"Pipeline {model.pipeline.name}", f"{shown_path(notebook)}{folder}"
        if notebook is not None:
            return f"Notebook {notebook.name}", shown_path(notebook)
        why = model.found_by if model.found_by.endswith("not saved yet") else "not known"
        return "Steps run in this session", f"the notebook of this kernel is {why}"

    def _sync_params(self) -> None:
        """One Text field per parameter; kept when the names stay, defaults follow edits."""
        import ipywidgets as w

        pipeline = self.model.pipeline
        declared = pipeline.params if pipeline is not None else {}
        defaults = {name: param_text(value) for name, value in declared.items()}
        if list(defaults) != list(self.param_inputs):
            self.param_inputs = {
                name: w.Text(value=text, layout={"width": "auto", "margin": "1px 0"})
                for name, text in defaults.items()
            }
            self.params.children = tuple(
                child
                for name, field in self.param_inputs.items()
                for child in (self._param_label(name, declared[name]), field)
            )
        else:
            for name, text in defaults.items():
                field = self.param_inputs[name]
                if field.value == self._defaults.get(name):  # not edited: follow the notebook
                    field.value = text
        self._defaults = defaults

    @staticmethod
    def _param_label(name: str, default: Any) -> Any:
        """A parameter's label: its name, then its type in the muted colour."""
        import ipywidgets as w

        return w.HTML(
            f'<span style="font-family: {panel_html.CODE_FONT}; color: {panel_html.FG};">'
            f'{escape(name)}</span> <span style="color: {panel_html.MUTED}; '
            f'font-size: 0.85em;">{escape(type(default).__name__)}</span>'
        )

    @staticmethod
    def _button(description: str, tooltip: str, style: str = "") -> Any:
        import ipywidgets as w

        return w.Button(description=description, tooltip=tooltip, button_style=style)
