"""MLflow records of a notebook session: one parent run, one nested run per ``%%mlstep`` cell.

Core module, no IPython import: the magics hand it the shell, step records and namespace.
Tracking is on headless (:func:`tracking_decision`) or after ``%mlops track on``; mlflow is
imported at the first tracked step only. The notebook (:func:`find_notebook`) names the
experiment; the values of its parameters-cell names when the first step starts are the params.
The parent run ends after the notebook's last code cell (headless), at the kernel's shutdown
request (:mod:`~jupyter_mlops.jupyter.kernel_shutdown`), at ``%mlops track off`` or at exit.
A tracking failure never breaks the notebook: one line on stderr, and tracking goes off.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jupyter_mlops.jupyter.kernel_shutdown import on_shutdown_request

if TYPE_CHECKING:
    from jupyter_mlops.authoring.notebook_file import Cell
    from jupyter_mlops.jupyter.session import StepRecord

TRACKING_ENV = "JUPYTER_MLOPS_TRACKING"
NOTEBOOK_ENV = "JUPYTER_MLOPS_NOTEBOOK"
_ON, _OFF = ("1", "on", "true"), ("0", "off", "false")
# Unless the user set them: fail in seconds, not after MLflow's ~4 minutes of HTTP retries.
_HTTP_DEFAULTS = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2", "MLFLOW_HTTP_REQUEST_TIMEOUT": "30"}


def tracking_decision(shell: Any, environ: Mapping[str, str] = os.environ) -> tuple[bool, str]:
    """Whether to track by default, and why: ``$JUPYTER_MLOPS_TRACKING`` first, else headless."""
    forced = environ.get(TRACKING_ENV, "").strip().lower()
    if forced in _ON + _OFF:
        return forced in _ON, f"{TRACKING_ENV}={forced}"
    headless = executing_headless(shell)
    if headless is None:
        return False, "interactive: no kernel, terminal IPython"
    if headless:
        return True, "headless: the kernel runs with allow_stdin=False, as under nbclient/papermill"
    return False, "interactive: the front end sends allow_stdin=True"


def executing_headless(shell: Any) -> bool | None:
    """True when the kernel's current request has ``allow_stdin=False``, as nbclient (papermill,
    nbconvert) sends; front ends send True. ipykernel's ``do_execute`` keeps it in
    ``kernel._allow_stdin``. None without a kernel (terminal IPython)."""
    kernel = getattr(shell, "kernel", None)
    return None if kernel is None else getattr(kernel, "_allow_stdin", True) is False


def find_notebook(
    namespace: Mapping[str, Any], environ: Mapping[str, str] = os.environ
) -> tuple[Path | None, str]:
    """``(path or None, where it was found)`` of the running notebook, trying in order:
    ``$JUPYTER_MLOPS_NOTEBOOK``; ``PAPERMILL_INPUT_PATH`` in the namespace (papermill
    ``--inject-paths``); ``$JPY_SESSION_NAME``, ``__session__`` (Jupyter server),
    ``__vsc_ipynb_file__`` (VS Code); the first ``*.ipynb`` argument of the parent process
    (papermill and nbconvert start the kernel; Linux ``/proc``) against the parent's cwd."""
    candidates = [
        (environ.get(NOTEBOOK_ENV), f"${NOTEBOOK_ENV}"),
        (namespace.get("PAPERMILL_INPUT_PATH"), "PAPERMILL_INPUT_PATH"),
        (environ.get("JPY_SESSION_NAME"), "$JPY_SESSION_NAME"),
        (namespace.get("__session__"), "__session__"),
        (namespace.get("__vsc_ipynb_file__"), "__vsc_ipynb_file__"),
    ]
    for value, how in candidates:
        if isinstance(value, str) and value.strip():
            return Path.cwd() / value.strip(), how  # an absolute path stays as it is
    found = parent_process_notebook()
    return (found, "parent process command line") if found else (None, "not found")


def parent_process_notebook() -> Path | None:
    """The first ``*.ipynb`` argument of the parent process, against the parent's cwd."""
    folder = Path("/proc", str(os.getppid()))
    try:
        args = (folder / "cmdline").read_bytes().split(b"\0")[1:]
        cwd = Path(os.readlink(folder / "cwd"))
    except OSError:
        return None
    notebooks = [a for a in map(os.fsdecode, args) if a.endswith(".ipynb") and a[:1] != "-"]
    return cwd / notebooks[0] if notebooks else None


def parameter_names(cells: list[Cell]) -> list[str]:
    """The names the ``parameters``-tagged code cells assign, in order."""
    from jupyter_mlops.authoring.analysis import analyze_code

    names: list[str] = []
    for cell in (c for c in cells if c.cell_type == "code" and "parameters" in c.tags):
        with contextlib.suppress(SyntaxError):
            names += [name for name in analyze_code(cell.source).writes if name not in names]
    return names


def declared_metrics_vars(cells: list[Cell]) -> dict[str, str]:
    """Step name -> ``--metrics`` variable of the notebook's ``%%mlstep`` cells."""
    from jupyter_mlops.authoring.stepline import is_step_cell, parse_step_line, split_step_cell
    from jupyter_mlops.errors import StepDeclarationError

    found: dict[str, str] = {}
    for cell in (c for c in cells if c.cell_type == "code" and is_step_cell(c.source)):
        with contextlib.suppress(StepDeclarationError):
            options = parse_step_line(split_step_cell(cell.source)[0])
            if options.metrics:
                found[options.name] = options.metrics
    return found


def declared_model_names(cells: list[Cell], pipeline: str) -> dict[str, str] | str:
    """Step name -> registered model name of the notebook's ``--model`` steps, as a pipeline
    run names them (``model_names.py``); the error message when two would share a name."""
    from jupyter_mlops.authoring.stepline import is_step_cell, parse_step_line, split_step_cell
    from jupyter_mlops.errors import DuplicateModelName, StepDeclarationError
    from jupyter_mlops.pipeline.model import Pipeline, Step
    from jupyter_mlops.pipeline.model_names import model_names

    steps: list[Step] = []
    for cell in (c for c in cells if c.cell_type == "code" and is_step_cell(c.source)):
        with contextlib.suppress(StepDeclarationError):
            options = parse_step_line(split_step_cell(cell.source)[0])
            steps.append(
                Step(options.name, 0, "", model=options.model, model_name=options.model_name)
            )
    try:
        return model_names(Pipeline(pipeline, "", "", steps=steps))
    except DuplicateModelName as exc:
        return str(exc)


def last_code_cell(cells: list[Cell]) -> tuple[int, str] | None:
    """(how many code cells nbclient executes, the source of the last), or None: none."""
    code = [c for c in cells if c.cell_type == "code" and "skip-execution" not in c.tags]
    run = [source for source in (c.source.strip() for c in code) if source]
    return (len(run), run[-1]) if run else None


@contextlib.contextmanager
def _mlflow(uri: str, action: str) -> Iterator[None]:
    """Errors as one-line TrackingErrors; no MLflow INFO lines in the cell output."""
    import mlflow  # noqa: F401  (configures its loggers on import: do that first)

    from jupyter_mlops.tracking.store import mlflow_errors

    logger, unset = logging.getLogger("mlflow"), set(_HTTP_DEFAULTS) - set(os.environ)
    level = logger.level
    logger.setLevel(logging.WARNING)
    os.environ.update({name: _HTTP_DEFAULTS[name] for name in unset})
    try:
        with mlflow_errors(uri, action):
            yield
    finally:
        logger.setLevel(level)
        for name in unset:
            os.environ.pop(name, None)


class NotebookTracker:
    """Records one kernel session of a notebook in MLflow (see the module docstring)."""

    def __init__(self, shell: Any) -> None:
        self.shell = shell
        self.enabled: bool | None = None  # None: not decided yet
        self.why = self.found_by = self.experiment = self.tracking_uri = self._experiment_id = ""
        self.notebook: Path | None = None
        self.run_id: str | None = None
        self._commit: str | None = None  # HEAD of the notebook's repository
        self.step_states: dict[str, str] = {}  # latest state of each step in this run
        self.cell_failed = False
        self._client: Any = None
        self._params: list[str] = []
        self._step_metrics: dict[str, dict[str, float]] = {}  # latest values of each step
        self._metrics_vars: dict[str, str] = {}  # step -> its --metrics variable
        self._last_cell: tuple[int, str] | None = None  # see last_code_cell
        self._model_names: dict[str, str] | str = {}  # see declared_model_names

    def is_on(self) -> bool:
        """The decision, taken once (environment, kernel) unless ``set_enabled`` changed it."""
        if self.enabled is None:
            self.enabled, self.why = tracking_decision(self.shell)
        return self.enabled

    def set_enabled(self, on: bool, why: str) -> None:
        """Turn tracking on or off (``%mlops track on|off``); off ends the current run."""
        if not on:
            self.finish()
        self.enabled, self.why = on, why

    def before_step(self) -> None:
        """Before a step's body runs: the first tracked step starts the parent run."""
        if self.enabled is not False and self.run_id is None and self.is_on():
            self._guarded(self._start)

    def after_step(self, record: StepRecord, namespace: Mapping[str, Any]) -> None:
        """Record a step that just ran (or failed) as a nested run; register its model."""
        if self.enabled and self.run_id is not None:
            self._guarded(self._record_step, record, namespace)

    def post_run_cell(self, result: Any) -> None:
        """``shell.events`` hook, headless: a failed cell fails the run (papermill stops there);
        the notebook's last code cell ends it (the kernel may be killed at shutdown)."""
        if not executing_headless(self.shell):
            return
        if result.error_before_exec or result.error_in_exec:
            self.cell_failed = True
        count, last = self._last_cell or (0, None)
        executed = getattr(result, "execution_count", None)  # None: a step's body, nested
        source = getattr(getattr(result, "info", None), "raw_cell", None)
        if executed is not None and executed >= count and (source or "").strip() == last:
            self.finish()

    def locate(self) -> None:
        """Find the notebook, the experiment name and the tracking URI (no MLflow import)."""
        from jupyter_mlops.authoring.scan import pipeline_name
        from jupyter_mlops.tracking.gitinfo import project_root
        from jupyter_mlops.tracking.store import resolve_tracking_uri

        nb, self.found_by = find_notebook(self.shell.user_ns)
        folder = nb.parent if nb is not None and nb.parent.is_dir() else Path.cwd()
        self.notebook, self.experiment = nb, pipeline_name(nb) if nb else "notebook"
        self.tracking_uri = resolve_tracking_uri(None, project_root(folder))

    def _start(self) -> None:
        from jupyter_mlops import __version__
        from jupyter_mlops.authoring.notebook_file import read_notebook
        from jupyter_mlops.tracking import store as t
        from jupyter_mlops.tracking.gitinfo import git_commit

        self.locate()
        self._step_metrics, self._metrics_vars, self._last_cell = {}, {}, None
        self._model_names = {}
        tags = {"mlops.pipeline": self.experiment, "mlops.source": "notebook"}
        tags.update({"mlops.tool_version": __version__, "mlops.status": "running"})
        if self.notebook is not None:
            tags.update({"mlops.notebook": str(self.notebook), "mlflow.source.type": "NOTEBOOK"})
            tags["mlflow.source.name"] = str(self.notebook)
            if self.notebook.is_file():
                source = read_notebook(self.notebook)
                tags["mlops.notebook_sha256"] = source.content_hash
                self._params = parameter_names(source.cells)
                self._metrics_vars = declared_metrics_vars(source.cells)
                self._model_names = declared_model_names(source.cells, self.experiment)
                self._last_cell = last_code_cell(source.cells)
            self._commit = git_commit(self.notebook.parent)
            if self._commit:
                tags["mlops.git_commit"] = tags["mlflow.source.git.commit"] = self._commit
        namespace = self.shell.user_ns
        params = {name: namespace[name] for name in self._params if name in namespace}
        with _mlflow(self.tracking_uri, "start the notebook run record"):
            client = t.make_client(self.tracking_uri)
            location = t.default_artifact_location(self.tracking_uri)
            self._experiment_id = t.get_or_create_experiment(client, self.experiment, location)
            run = client.create_run(self._experiment_id, tags=tags)
            t.log_batch(client, run.info.run_id, params=params)
        self._client, self.run_id = client, run.info.run_id
        atexit.register(self.finish)  # terminal IPython; a kernel that ends without a request
        on_shutdown_request(self.shell, self.finish)
        self.shell.events.register("post_run_cell", self.post_run_cell)

    def _record_step(self, record: StepRecord, namespace: Mapping[str, Any]) -> None:
        from jupyter_mlops.tracking.store import DURATION_METRIC, log_batch, numeric_metrics

        options, ok = record.options, record.state == "ok"
        self.step_states[record.name] = record.state
        tags = {"mlflow.parentRunId": str(self.run_id), "mlops.pipeline": self.experiment}
        tags.update({"mlops.step": record.name, "mlops.status": "ran" if ok else "failed"})
        tags.update({"mlops.source": "notebook", "mlops.reads": ",".join(record.reads)})
        tags.update({"mlops.writes": ",".join(record.writes)})
        if record.error:
            tags["mlops.error"] = record.error
        if self._commit:
            tags["mlflow.source.git.commit"] = self._commit
        found = namespace.get(options.metrics) if ok and options and options.metrics else None
        metrics = numeric_metrics(found) if isinstance(found, Mapping) else {}
        self._step_metrics[record.name] = metrics
        if options is not None and options.metrics:
            self._metrics_vars[record.name] = options.metrics
        params = {n: namespace[n] for n in record.reads if n in self._params and n in namespace}
        end, client = int(time.time() * 1000), self._client
        with _mlflow(self.tracking_uri, f"record step '{record.name}'"):
            start = end - int(record.duration * 1000)
            run = client.create_run(self._experiment_id, start, tags, run_name=record.name)
            duration = {DURATION_METRIC: record.duration}
            log_batch(client, run.info.run_id, params=params, metrics={**metrics, **duration})
            client.set_terminated(run.info.run_id, "FINISHED" if ok else "FAILED", end_time=end)
        if ok and options is not None and options.model:
            self._register_model(run.info.run_id, options.model, record, namespace)

    def _register_model(self, run_id: str, var: str, record: StepRecord, ns: Any) -> None:
        from jupyter_mlops.registry.models import log_and_register_model
        from jupyter_mlops.tracking.store import log_batch

        inputs = {name: ns[name] for name in record.reads if name in ns}
        tags = {"mlops.source": "notebook", "mlops.fit_inputs": ",".join(inputs)}
        if self.notebook is not None:
            tags["mlops.notebook"] = str(self.notebook)
        uri, model, names = self.tracking_uri, ns.get(var), self._model_names
        options = record.options
        try:
            if model is None:
                raise ValueError(f"--model {var} is not defined")
            if isinstance(names, str):  # two steps would register the same model name
                raise ValueError(names)
            default = (options.model_name if options else None) or self.experiment
            name = names.get(record.name, default)
            with _mlflow(uri, "register the model"):
                version = log_and_register_model(
                    uri, run_id, model, inputs, self.experiment, tags, registered_name=name
                )
                version_tags = {"mlops.model_version": version}
                version_tags[f"mlops.model_version.{name}"] = version
                log_batch(self._client, str(self.run_id), tags=version_tags)
        except Exception as exc:  # one warning; a broken store fails the next record instead
            _warn(f"step '{record.name}': model '{var}' not registered: {_first_line(exc)}")

    def finish(self) -> None:
        """End the parent run (headless: after the last code cell or at the kernel's shutdown
        request; ``%mlops track off``; exit) with the steps' metrics as :func:`run_metrics`
        names them: FAILED when the latest run of a step failed or (headless) a cell failed
        after the first step; safe to call twice."""
        from jupyter_mlops.execute.run_result import run_metrics
        from jupyter_mlops.tracking.store import log_batch

        run_id, self.run_id = self.run_id, None
        if run_id is None:
            return
        with contextlib.suppress(Exception):
            atexit.unregister(self.finish)
            self.shell.events.unregister("post_run_cell", self.post_run_cell)
        failed = self.cell_failed or "failed" in self.step_states.values()
        metrics = run_metrics(self._step_metrics, self._metrics_vars)
        self.step_states, self.cell_failed, self._step_metrics = {}, False, {}
        tags = {"mlops.status": "failed" if failed else "succeeded"}
        try:
            with _mlflow(self.tracking_uri, f"finish run {run_id}"):
                log_batch(self._client, run_id, metrics=metrics, tags=tags)
                self._client.set_terminated(run_id, "FAILED" if failed else "FINISHED")
        except Exception as exc:
            _warn(_first_line(exc))

    def _guarded(self, action: Any, *args: Any) -> None:
        try:
            action(*args)
        except Exception as exc:
            _warn(f"MLflow tracking is off for this session: {_first_line(exc)}")
            run_id, self.run_id = self.run_id, None
            self.enabled, self.why = False, f"switched off after a failure: {_first_line(exc)}"
            if run_id is not None:  # best effort: the store may be what failed
                with contextlib.suppress(Exception), _mlflow(self.tracking_uri, "end the run"):
                    self._client.set_terminated(run_id, "KILLED")

    def status(self) -> str:
        """What ``%mlops track`` prints."""
        on = self.is_on()
        if self.run_id is None:
            with contextlib.suppress(Exception):
                self.locate()
        where = f"{self.notebook} (from {self.found_by})" if self.notebook else "not found"
        run = self.run_id or ("none yet (starts at the next %%mlstep cell)" if on else "none")
        lines = [f"tracking: {'on' if on else 'off'} ({self.why})", f"notebook: {where}"]
        lines += [f"tracking URI: {self.tracking_uri}", f"experiment: {self.experiment}"]
        lines += [f"run: {run}"] + ([] if on else ["turn on with: %mlops track on"])
        return "\n".join(lines)


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().partition("\n")[0] or type(exc).__name__


def _warn(message: str) -> None:
    print(f"jupyter_mlops: {message}", file=sys.stderr)
