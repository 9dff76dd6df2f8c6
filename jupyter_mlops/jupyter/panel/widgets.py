"""ipywidgets adapter: ``%mlops panel`` shows a notebook's pipeline inside the notebook.

Header and parameters (``Text`` fields pre-filled from the parameters cell), Refresh /
Extract / Run / Cancel buttons, the steps table with live per-step progress, the DAG, and
the registered model versions with one line of monitoring per model. Only standard ipywidgets 8 widgets (HTML, Text, Button,
Dropdown, Checkbox, HBox, VBox) and no front-end code of our own, so it works wherever
ipywidgets does: JupyterLab, Notebook 7, VS Code. ipywidgets is imported when a panel is
built, never by ``%load_ext``; mlflow only when a store exists to list models from.

Extract and Run work in a background thread, so the notebook stays usable during a run.
Run uses the ``inprocess`` engine by default (no kernel start per step, no papermill import
in this kernel); pick ``papermill`` to keep each executed step notebook as a report. What
Cancel does is described in ``state.py``. Logic lives in ``state.py`` (``PanelModel``).
"""

from __future__ import annotations

import shlex
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jupyter_mlops.errors import MlopsError, NotebookError
from jupyter_mlops.execute.status import StepStatus
from jupyter_mlops.jupyter.panel import html as panel_html
from jupyter_mlops.jupyter.panel.rows import param_text
from jupyter_mlops.jupyter.panel.state import DEFAULT_ENGINE, ENGINES, PanelModel
from jupyter_mlops.pipeline import dag

if TYPE_CHECKING:
    from jupyter_mlops.jupyter.session import StepRecord, StepSession

TICK_SECONDS = 0.5  # how often elapsed times of running steps are redrawn


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
            notebook, found_by = None, f"{notebook} from {found_by} is not a saved file"
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
        self._graph: list[tuple[str, list[str]]] | None = None
        self._defaults: dict[str, str] = {}
        self.header = w.HTML()
        self.param_inputs: dict[str, Any] = {}
        self.params = w.HBox(layout=w.Layout(flex_flow="row wrap"))
        self.refresh_button = self._button("Refresh", "re-read the saved notebook and models")
        self.extract_button = self._button("Extract", "write the pipeline package")
        self.run_button = self._button("Run", "extract, then run the pipeline", "primary")
        self.cancel_button = self._button("Cancel", "stop at the next step boundary", "warning")
        self.cancel_button.disabled = True
        self.engine = w.Dropdown(
            options=list(ENGINES), value=engine, description="engine", layout={"width": "200px"}
        )
        self.track = w.Checkbox(value=True, description="record in MLflow", indent=False)
        self.message = w.HTML()
        self.steps = w.HTML()
        self.dag = w.HTML()
        self.models = w.HTML()
        buttons = [self.refresh_button, self.extract_button, self.run_button, self.cancel_button]
        controls = w.HBox([*buttons, self.engine, self.track], layout={"flex_flow": "row wrap"})
        self.widget = w.VBox(
            [
                self.header,
                self.params,
                controls,
                self.message,
                self.steps,
                w.HTML(panel_html.section_title("DAG")),
                self.dag,
                w.HTML(panel_html.section_title("Model versions")),
                self.models,
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
        """Re-read the notebook (quick, in this thread), then the models (in the background)."""
        self.model.refresh()
        self.render()
        self._background(self.load_models)

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
        self.cancel_button.disabled = not busy

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
                f"No MLflow store at {uri} yet: a run with 'record in MLflow' creates it."
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
                f"No registered versions of model '{name}' in {uri} yet "
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
            graph = self.model.graph()
            if graph != self._graph:
                self._graph = graph
                svg = dag.render_svg(graph) if graph else ""
                self.dag.value = svg or panel_html.note_html("No steps yet.")

    def render_steps(self) -> None:
        """Redraw the steps table only (progress ticks)."""
        with self._lock:
            self.steps.value = panel_html.steps_table(self.model.snapshot())

    def _title(self) -> tuple[str, str]:
        model = self.model
        if model.pipeline is not None:
            where = f"{model.notebook} (found: {model.found_by})"
            return f"Pipeline {model.pipeline.name}", f"{where} → {model.folder}/"
        if model.notebook is not None:
            return f"Notebook {model.notebook.name}", str(model.notebook)
        return "Steps run in this session", f"notebook not found ({model.found_by})"

    def _sync_params(self) -> None:
        """One Text field per parameter; kept when the names stay, defaults follow edits."""
        import ipywidgets as w

        pipeline = self.model.pipeline
        declared = pipeline.params if pipeline is not None else {}
        defaults = {name: param_text(value) for name, value in declared.items()}
        if list(defaults) != list(self.param_inputs):
            self.param_inputs = {
                name: w.Text(
                    value=text,
                    description=name,
                    style={"description_width": "initial"},
                    layout={"width": "auto", "margin": "2px 12px 2px 0"},
                )
                for name, text in defaults.items()
            }
            self.params.children = tuple(self.param_inputs.values())
        else:
            for name, text in defaults.items():
                field = self.param_inputs[name]
                if field.value == self._defaults.get(name):  # not edited: follow the notebook
                    field.value = text
        self._defaults = defaults

    @staticmethod
    def _button(description: str, tooltip: str, style: str = "") -> Any:
        import ipywidgets as w

        return w.Button(description=description, tooltip=tooltip, button_style=style)
