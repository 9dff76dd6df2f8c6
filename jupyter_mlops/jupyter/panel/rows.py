"""What the in-notebook panel shows per step, and how its parameter fields are read.

Core module (no widgets): rows come from the pipeline model or from the steps this kernel
session ran; ``html.py`` draws them, ``state.py`` updates them during a run.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jupyter_mlops.pipeline.params import ParameterError, parse_value

if TYPE_CHECKING:
    from jupyter_mlops.jupyter.session import StepRecord
    from jupyter_mlops.pipeline.model import Pipeline


@dataclass
class StepRow:
    """One line of the steps table. ``params`` is None when unknown (session steps).

    ``status``: idle, waiting, running, ran, cached, failed, not_run, cancelled, or
    session_ok / session_failed (the latest run of the cell in this kernel session).
    """

    name: str
    inputs: dict[str, str]  # variable -> producing step
    outputs: list[str]
    params: list[str] | None
    cell: int | None = None
    status: str = "idle"
    seconds: float | None = None
    started: float | None = None  # time.monotonic() when it started running
    error: str | None = None


@dataclass
class Message:
    """The line under the buttons: ``kind`` is info, success, warning or error."""

    kind: str
    text: str
    details: list[str] = field(default_factory=list)
    traceback: str | None = None


def rows_from_pipeline(pipeline: Pipeline, records: list[StepRecord]) -> list[StepRow]:
    """The pipeline's steps; a step already run in this session shows that state."""
    seen = {record.name: record for record in records}
    rows = []
    for step in pipeline.steps:
        record = seen.get(step.name)
        inputs = dict(sorted(step.inputs.items()))
        row = StepRow(step.name, inputs, list(step.outputs), list(step.params), step.cell)
        if record is not None:
            row.status, row.seconds = f"session_{record.state}", record.duration
            row.error = record.error
        rows.append(row)
    return rows


def rows_from_session(records: list[StepRecord]) -> list[StepRow]:
    """The steps this session ran; an input's producer is the latest earlier step writing it."""
    last_writer: dict[str, str] = {}
    rows = []
    for record in records:
        inputs = {name: last_writer[name] for name in record.reads if name in last_writer}
        rows.append(
            StepRow(
                record.name,
                inputs,
                list(record.writes),
                None,
                status=f"session_{record.state}",
                seconds=record.duration,
                error=record.error,
            )
        )
        last_writer.update(dict.fromkeys(record.writes, record.name))
    return rows


def param_text(value: Any) -> str:
    """How a parameter default is pre-filled: a Python literal."""
    return repr(value)


def parse_param_texts(texts: Mapping[str, str], declared: Mapping[str, Any]) -> dict[str, Any]:
    """Edited parameter fields → values (Python literals, else strings, like ``-p``).

    Names the notebook no longer declares are dropped; an empty field is refused.
    """
    values: dict[str, Any] = {}
    for name, text in texts.items():
        if name not in declared:
            continue
        if not text.strip():
            raise ParameterError(
                f"parameter '{name}' is empty: enter a Python literal such as "
                f"{param_text(declared[name])}",
                name=name,
            )
        values[name] = parse_value(text.strip())
    return values


def shown_path(path: str | Path, base: str | Path | None = None) -> str:
    """``path`` as the panel shows it: relative to ``base`` (default: the working folder)
    when it is inside it, else relative with at most two ``..``, else its name alone."""
    target = Path(path)
    if not target.is_absolute():
        return target.as_posix()
    start = Path(base) if base is not None else Path.cwd()
    try:
        relative = Path(os.path.relpath(target, start))
    except ValueError:  # another drive (Windows)
        return target.name
    if relative.parts[:3] == ("..", "..", ".."):
        return target.name
    return relative.as_posix()


def shown_uri(uri: str, base: str | Path | None = None) -> str:
    """A tracking URI as the panel shows it: a SQLite file by its ``shown_path``."""
    prefix = "sqlite:///"
    if uri.startswith(prefix):
        return prefix + shown_path(uri[len(prefix) :], base)
    return uri
