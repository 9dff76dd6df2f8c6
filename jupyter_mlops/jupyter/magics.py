"""IPython adapter: the ``%%mlstep`` cell magic and the ``%mlops`` line magic.

Thin on purpose: parse the line, run the body as a plain cell, hand what happened to
``session.StepSession``, render with ``dag``/``session``. Nothing heavy is imported here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class

from jupyter_mlops.authoring.stepline import parse_step_line
from jupyter_mlops.errors import StepDeclarationError, StepFailed
from jupyter_mlops.jupyter.notebook_tracking import NotebookTracker
from jupyter_mlops.jupyter.session import StepSession, step_io, steps_table_html, steps_table_text
from jupyter_mlops.pipeline import dag

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell


class StepCellFailed(StepFailed):
    """The body of a ``%%mlstep`` cell raised; its traceback has already been shown.

    IPython shows ``_render_traceback_`` instead of a traceback, so the failing cell shows
    the user's traceback once, then this one line. Papermill and nbval see the failure.
    """

    def __str__(self) -> str:
        return self.message

    def _render_traceback_(self) -> list[str]:
        return [self.message]


@magics_class
class MlopsMagics(Magics):
    """``%%mlstep NAME [options]`` marks and runs a step; ``%mlops SUBCOMMAND`` inspects them."""

    def __init__(self, shell: InteractiveShell | None = None) -> None:
        super().__init__(shell)
        self.session = StepSession()
        self.tracker = NotebookTracker(shell)
        # Subcommands of %mlops: name -> (handler, one-line help). Add "panel" here.
        self.subcommands: dict[str, tuple[Callable[[str], None], str]] = {
            "steps": (self._show_steps, "list the steps run in this session"),
            "dag": (self._show_dag, "show how those steps depend on each other"),
            "track": (self._track, "MLflow tracking of this session: on | off | status"),
            "panel": (self._panel, "widgets: steps, DAG, extract, run, models [NOTEBOOK]"),
        }
        self.panel: object = None  # the latest %mlops panel (a widgets.Panel), for scripts

    @cell_magic
    def mlstep(self, line: str, cell: str) -> None:
        """Run this cell as the pipeline step NAME and record it.

        Usage: %%mlstep NAME [--inputs A B ...] [--outputs C D ...]
        [--model VAR [--model-name NAME]] [--metrics VAR] [--no-cache]
        [--resources cpu=2,memory=4GB]
        """
        try:
            options = parse_step_line(line)
        except StepDeclarationError as exc:
            raise UsageError(str(exc)) from None
        shell = self.shell
        assert shell is not None
        if "await" in cell and _awaits_inside_running_loop(shell, cell):
            raise UsageError(
                "top-level await cannot run inside a %%mlstep cell in this kernel "
                "(cell magics run synchronously); move it to an unmarked cell"
            )
        try:
            reads, writes = step_io(options, cell)
        except SyntaxError:
            reads, writes = [], []  # run_cell reports it exactly like a plain cell
        self.tracker.before_step()
        start = time.perf_counter()
        result = shell.run_cell(_with_magic_line(line, cell), store_history=False)
        duration = time.perf_counter() - start
        error = result.error_before_exec or result.error_in_exec
        record = self.session.record(options, cell, reads, writes, duration, shell.user_ns, error)
        self.tracker.after_step(record, shell.user_ns)
        if result.success:
            return
        failure = StepCellFailed(
            f"step '{options.name}' failed (see the traceback above)", step=options.name
        )
        if error is None:
            raise failure
        # Carry the user's traceback so %debug opens the frame that raised.
        raise failure.with_traceback(error.__traceback__) from error

    @line_magic
    def mlops(self, line: str) -> None:
        """Inspect the steps of this session: %mlops steps | dag | track [on|off] | panel."""
        command, _, rest = line.strip().partition(" ")
        if not command:
            print(self.usage())
            return
        entry = self.subcommands.get(command)
        if entry is None:
            raise UsageError(f"unknown subcommand '{command}'; {self.usage()}")
        entry[0](rest.strip())

    def usage(self) -> str:
        """The one-line usage of ``%mlops``."""
        return (
            "usage: %mlops "
            + " | ".join(self.subcommands)
            + " ("
            + "; ".join(f"{name}: {text}" for name, (_, text) in self.subcommands.items())
            + ")"
        )

    def _show_steps(self, args: str) -> None:
        self._no_args("steps", args)
        records = self.session.steps
        _display({"text/plain": steps_table_text(records), "text/html": steps_table_html(records)})

    def _show_dag(self, args: str) -> None:
        self._no_args("dag", args)
        graph = self.session.dependencies()
        if not graph:
            print("No steps run in this session yet (mark a cell with %%mlstep NAME and run it).")
            return
        _display({"text/plain": dag.render_text(graph), "image/svg+xml": dag.render_svg(graph)})

    def _track(self, args: str) -> None:
        if args in ("on", "off"):
            self.tracker.set_enabled(args == "on", f"turned {args} with %mlops track {args}")
        elif args:
            raise UsageError(f"usage: %mlops track [on|off] (got '{args}')")
        print(self.tracker.status())

    def _panel(self, args: str) -> None:
        from jupyter_mlops.errors import MlopsError
        from jupyter_mlops.jupyter.panel.widgets import open_panel

        try:
            self.panel = panel = open_panel(self.shell, self.session, args)
        except MlopsError as exc:
            raise UsageError(str(exc)) from None
        from IPython.display import display

        display(panel.widget)

    @staticmethod
    def _no_args(command: str, args: str) -> None:
        if args:
            raise UsageError(f"%mlops {command} takes no arguments (got '{args}')")


def _awaits_inside_running_loop(shell: InteractiveShell, body: str) -> bool:
    """True when the body needs top-level await while an event loop runs (ipykernel)."""
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False  # terminal IPython: run_cell can drive the coroutine itself
    try:
        return bool(shell.should_run_async(body, transformed_cell=shell.transform_cell(body)))
    except Exception:
        return False


def _with_magic_line(line: str, body: str) -> str:
    """The body behind a comment standing in for the ``%%mlstep`` line.

    Traceback line numbers then match the line numbers the front end shows for the cell.
    A body that starts with another cell magic must stay first, so it is left as it is.
    """
    if body.lstrip().startswith("%%"):
        return body
    return f"# %%mlstep {line}\n{body}"


def _display(bundle: dict[str, str]) -> None:
    from IPython.display import display

    display(bundle, raw=True)
