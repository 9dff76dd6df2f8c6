"""The live runs of a pipeline, wherever they were started (``execute/live_record.py``): the
panel and the widgets list them, show one, and settle one its process left running."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jupyter_mlops.errors import RunNotFound
from jupyter_mlops.execute.live_record import KEEP_RECORDS, end_abandoned, read_record, read_records
from jupyter_mlops.pipeline.layout import resolve_target


def pipeline_folder(target: str | Path) -> Path:
    """The pipeline folder runs of ``target`` (a notebook or a pipeline folder) execute in."""
    return resolve_target(target).folder


def live_runs(target: str | Path, limit: int = KEEP_RECORDS) -> list[dict[str, Any]]:
    """The live records of the pipeline of ``target``, newest first (at most ``limit``)."""
    return read_records(pipeline_folder(target), limit)


def live_run(target: str | Path, run_id: str) -> dict[str, Any]:
    """The live record of run ``run_id`` of the pipeline of ``target``; RunNotFound naming
    the id when that pipeline has none."""
    record = read_record(pipeline_folder(target), run_id)
    if record is None:
        raise RunNotFound(f"no run '{run_id}' of this pipeline", name=run_id)
    return record


def settle_live_run(folder: str | Path, run_id: str, status: str, error: str) -> bool:
    """Mark run ``run_id``'s record ``status`` with ``error`` when its process was stopped (a
    cancel's signal) while the record still said running; whether it did."""
    return end_abandoned(folder, run_id, status, error)
