"""The in-notebook panel without widgets: its steps, and what Refresh, Extract, Run and Cancel do.

Core module: no IPython or ipywidgets import (``widgets.py`` draws a PanelModel). Steps come
from the saved notebook (``scan.scan_notebook``), or from the steps this kernel session ran
(``session.py``) when the notebook is unknown. Actions are synchronous; they report through
``message`` and the step rows and never raise for a user error. Listeners are called after
every change, during a run from the runner's threads.

Cancel stops a run at the next step boundary: the progress callback raises RunCancelled,
which ends the runner's DAG loop. Steps already running finish (their outputs are cached),
no new step starts, and the cancelled run is not recorded in MLflow.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from jupyter_mlops import api
from jupyter_mlops.errors import ExtractionErrors, MlopsError, RunCancelled
from jupyter_mlops.execute.status import RunStatus, StepStatus
from jupyter_mlops.jupyter.panel.rows import (
    Message,
    StepRow,
    parse_param_texts,
    rows_from_pipeline,
    rows_from_session,
    shown_path,
)

if TYPE_CHECKING:
    from jupyter_mlops.execute.run_result import RunResult
    from jupyter_mlops.jupyter.session import StepRecord
    from jupyter_mlops.pipeline.model import Pipeline

DEFAULT_ENGINE = "inprocess"  # no kernel per step, no papermill import in the user's kernel
ENGINES = ("inprocess", "papermill")
NO_NOTEBOOK = (
    "the notebook is not known: showing the steps run in this session; to extract and run, "
    "open the panel with %mlops panel PATH.ipynb"
)
T = TypeVar("T")


class PanelProgress:
    """The runner's progress callback: updates the rows; raises RunCancelled once cancelled."""

    def __init__(self, model: PanelModel) -> None:
        self.model = model

    def running(self, step: str) -> None:
        """A step is about to run: refused after Cancel, so no new step starts."""
        self.model.raise_if_cancelled()
        self.model.update_row(
            step, status=StepStatus.RUNNING, started=time.monotonic(), seconds=None
        )

    def finished(self, step: str, status: str, seconds: float = 0.0) -> None:
        """A step ended as ran, cached, failed or not_run."""
        self.model.update_row(step, status=str(status), seconds=seconds, started=None)
        self.model.raise_if_cancelled()


class PanelModel:
    """State and actions of one panel on one notebook (or on the session's steps)."""

    def __init__(
        self,
        notebook: str | Path | None,
        *,
        found_by: str = "given",
        session_steps: Callable[[], list[StepRecord]] = list,
        output_dir: str | Path | None = None,
        tracking_uri: str | None = None,
    ) -> None:
        self.notebook = Path(notebook) if notebook is not None else None
        self.found_by = found_by
        self.session_steps = session_steps
        self.output_dir = Path(output_dir) if output_dir is not None else None
        self.explicit_tracking_uri = tracking_uri
        self.pipeline: Pipeline | None = None
        self.rows: list[StepRow] = []
        self.message: Message | None = None
        self.result: RunResult | None = None
        self._busy = threading.Lock()
        self._rows_lock = threading.Lock()
        self._cancel = threading.Event()
        self._listeners: list[Callable[[], None]] = []

    # ---------------------------------------------------------------- state

    @property
    def folder(self) -> Path | None:
        """Where the pipeline package is (or will be) extracted."""
        if self.output_dir is not None or self.notebook is None:
            return self.output_dir
        return api.default_output_dir(self.notebook)

    @property
    def busy(self) -> bool:
        """True while an action (extract, run) is under way."""
        return self._busy.locked()

    def tracking_uri(self) -> str:
        """The MLflow store a run records to: the runner's own resolution for this folder."""
        return api.tracking_uri_for(self.folder or Path.cwd(), self.explicit_tracking_uri)

    def model_names(self) -> list[str]:
        """The registered models of the pipeline, one per ``--model`` step (a pipeline
        without one: its own name, the model a run would register); [] without a pipeline."""
        if self.pipeline is None:
            return []
        return list(api.model_names(self.pipeline).values()) or [self.pipeline.name]

    def monitoring(self) -> list[dict[str, Any]]:
        """Per registered model of the extracted pipeline, its monitoring entry
        (``api.monitoring``); [] before extraction."""
        folder = self.folder
        if folder is None:
            return []
        models: list[dict[str, Any]] = api.monitoring(folder, self.tracking_uri())["models"]
        return models

    def snapshot(self) -> list[StepRow]:
        """A copy of the rows, safe to render while a run updates them."""
        with self._rows_lock:
            return [replace(row) for row in self.rows]

    def graph(self) -> list[tuple[str, list[str]]]:
        """The steps with the steps they depend on (input of ``dag.render_svg``)."""
        return [(row.name, sorted(set(row.inputs.values()))) for row in self.snapshot()]

    def subscribe(self, listener: Callable[[], None]) -> None:
        """Call ``listener()`` after every change."""
        self._listeners.append(listener)

    def update_row(self, step: str, **changes: Any) -> None:
        """Change one row (unknown steps are ignored) and tell the listeners."""
        with self._rows_lock:
            for row in self.rows:
                if row.name == step:
                    for key, value in changes.items():
                        setattr(row, key, value)
        self._changed()

    def raise_if_cancelled(self) -> None:
        """Raise RunCancelled when Cancel was pressed during this run."""
        if self._cancel.is_set():
            raise RunCancelled("run cancelled")

    # ---------------------------------------------------------------- actions

    def refresh(self) -> bool:
        """Re-read the saved notebook (or the session's steps); False on extraction errors."""
        if self.notebook is None:
            self._set_rows(rows_from_session(self.session_steps()))
            self._say("info", NO_NOTEBOOK)
            return True
        return self._act("refresh", self._scan) is not None

    def extract(self) -> Path | None:
        """Extract the saved notebook into ``folder``; the folder, or None on errors."""

        def extract() -> Path:
            pipeline = self._scan()
            folder, changed = self._write(pipeline)
            done = f"{len(changed)} files written" if changed else "no file changed"
            into = shown_path(folder)
            self._say("success", f"Extracted {len(pipeline.steps)} steps into {into}/ ({done})")
            return folder

        return self._act("extract", extract)

    def run(
        self, param_texts: Mapping[str, str], engine: str = DEFAULT_ENGINE, track: bool = True
    ) -> RunResult | None:
        """Extract the saved notebook, then run its pipeline with the edited parameters."""

        def run() -> RunResult:
            self.result = None
            pipeline = self._scan()
            params = parse_param_texts(param_texts, pipeline.params)
            folder, _ = self._write(pipeline)
            for row in self.snapshot():
                self.update_row(row.name, status=StepStatus.WAITING, seconds=None, error=None)
            steps = f"{len(pipeline.steps)} steps"
            self._say("info", f"Running {pipeline.name} ({steps}, {engine} engine)…")
            options = api.RunOptions(params=params, engine=engine, track=track, source="widget")
            options.tracking_uri, options.progress = self.explicit_tracking_uri, PanelProgress(self)
            self.result = result = api.run(folder, options)
            self._report(result)
            return result

        return self._act("run", run)

    def cancel(self) -> bool:
        """Ask the current run to stop at the next step boundary; False when none runs."""
        if not self.busy:
            return False
        self._cancel.set()
        self._say("warning", "Cancelling: steps already running finish, no new step starts…")
        return True

    # ---------------------------------------------------------------- helpers

    def _scan(self) -> Pipeline:
        if self.notebook is None:
            self.pipeline = None
            self._set_rows(rows_from_session(self.session_steps()))
            raise MlopsError(NO_NOTEBOOK)
        try:
            pipeline = api.load_pipeline(self.notebook)
        except MlopsError:
            self.pipeline = None
            self._set_rows([])
            raise
        self.pipeline = pipeline
        self._set_rows(rows_from_pipeline(pipeline, self.session_steps()))
        if self.result is not None:  # the last run's outcome stays visible
            self._apply_result(self.result)
        return pipeline

    def _write(self, pipeline: Pipeline) -> tuple[Path, list[Path]]:
        assert self.notebook is not None  # a scanned pipeline has a notebook
        done = api.extract(self.notebook, self.folder, pipeline)
        return done.folder, done.changed

    def _report(self, result: RunResult) -> None:
        from jupyter_mlops.execute.report import run_report

        self._apply_result(result)
        report = run_report(result)
        kind = "success" if result.status == RunStatus.SUCCEEDED else "error"
        self.message = Message(kind, report.headline, report.other_lines(), report.traceback)
        self._changed()

    def _apply_result(self, result: RunResult) -> None:
        with self._rows_lock:
            for row in self.rows:
                step = result.steps.get(row.name)
                if step is not None:
                    row.status, row.seconds, row.error = str(step.status), step.seconds, step.error

    def _cancelled(self) -> None:
        with self._rows_lock:
            for row in self.rows:
                if row.status in (StepStatus.WAITING, StepStatus.RUNNING):
                    row.status, row.started = "cancelled", None
        self._say(
            "warning",
            "Cancelled: steps that were running finished (their outputs are cached), no new "
            "step started, and the run was not recorded in MLflow.",
        )

    def _set_rows(self, rows: list[StepRow]) -> None:
        with self._rows_lock:
            self.rows = rows

    def _say(self, kind: str, text: str, details: list[str] | None = None) -> None:
        self.message = Message(kind, text, details or [])
        self._changed()

    def _changed(self) -> None:
        for listener in list(self._listeners):
            listener()

    def _act(self, action: str, body: Callable[[], T]) -> T | None:
        """Run one action at a time; user errors become the message (never raised)."""
        if not self._busy.acquire(blocking=False):
            self._say("warning", f"cannot {action} now: another action is under way")
            return None
        self._cancel.clear()
        try:
            return body()
        except RunCancelled:
            self._cancelled()
        except ExtractionErrors as errors:
            count = f"{len(errors.errors)} extraction error" + "s" * (len(errors.errors) > 1)
            self._say(
                "error",
                f"{count} in {shown_path(self.notebook or '')}: fix the notebook, save it and "
                "try again",
                [str(error) for error in errors.errors],
            )
        except MlopsError as error:
            self._say("error", str(error))
        except Exception as error:  # a bug, not bad input: keep the traceback visible
            self._say("error", f"{action} failed: {type(error).__name__}: {error}")
            if self.message is not None:
                self.message.traceback = traceback.format_exc()
        finally:
            self._busy.release()
            self._changed()
        return None
