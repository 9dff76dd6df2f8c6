"""The current data the monitor compares with the reference: a Parquet/CSV file or a SQL
query (``--data``, read by ``deploy/batch/source.py``), or the prediction service's request
log joined with its feedback labels (``--service-log``).

Every source comes out as one frame with the reference's feature columns and, where the
source has them, ``time``, ``model_version``, ``prediction``, ``shadow_of`` and the labels
in column ``LABEL``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from jupyter_mlops.errors import MonitorError

if TYPE_CHECKING:
    import pandas

LABEL = "__mlops_label__"
PREDICTION = "prediction"
VERSION = "model_version"
SHADOW = "shadow_of"


@dataclass(frozen=True)
class CurrentData:
    """The rows to monitor; ``kind`` is ``data`` or ``service-log``, ``location`` the file,
    the masked URL or the log folder; ``label_source`` ``labels``/``feedback``/None."""

    kind: str
    location: str
    rows: pandas.DataFrame
    label_source: str | None

    def to_json(self) -> dict[str, str]:
        """``kind`` and ``location`` as the monitor result shows them."""
        return {"kind": self.kind, "location": self.location}


def read_data(
    location: str, query: str | None, labels: str | None, columns: list[str]
) -> CurrentData:
    """All rows of a .parquet/.csv file, or of ``query`` on a database URL, checked to hold
    ``columns`` and the ``labels`` column (moved to ``LABEL``)."""
    import pandas

    from jupyter_mlops.deploy.batch.source import ChunkSource
    from jupyter_mlops.errors import DeployError

    source = ChunkSource(location, query)
    shown = source.shown if query is not None else str(Path(location).absolute())
    if query is None and not Path(location).is_file():
        raise MonitorError(f"--data {location}: no such file")
    try:
        frames = list(source.chunks())
    except DeployError as error:
        raise MonitorError(str(error)) from None
    rows = pandas.concat(frames, ignore_index=True) if frames else pandas.DataFrame()
    _check_columns(rows, columns, f"--data {shown}")
    if labels is not None:
        if labels not in rows.columns:
            raise MonitorError(
                f"--labels column '{labels}' is not in --data {shown} (columns: "
                f"{', '.join(map(str, rows.columns))})",
                name=labels,
            )
        rows = rows.rename(columns={labels: LABEL})
    return CurrentData("data", shown, rows, "labels" if labels is not None else None)


def read_service_log(folder: str, model: str, columns: list[str]) -> CurrentData:
    """The request log of ``model`` under ``folder`` with its feedback labels (the latest
    label of each request id) in ``LABEL``; features stored with an ``input_`` prefix (named
    like a log column) get their own names back."""
    from jupyter_mlops.deploy.serving.feedback import read_feedback
    from jupyter_mlops.deploy.serving.request_log import LOG_COLUMNS, read_request_log

    base = Path(folder)
    where = f"--service-log {base.absolute()}"
    if not (base / "requests" / model).is_dir():
        raise MonitorError(
            f"{where} has no request log of model '{model}' (no folder requests/{model})",
            name=folder,
        )
    log = read_request_log(base, model)
    renamed = {f"input_{c}": c for c in columns if c in LOG_COLUMNS}
    log = log.rename(columns=renamed)
    _check_columns(log, columns, where)
    feedback = read_feedback(base, model).drop_duplicates("request_id", keep="last")
    labelled = bool(len(feedback))
    if labelled:
        labels = feedback[["request_id", "label"]].rename(columns={"label": LABEL})
        log = log.merge(labels, on="request_id", how="left", validate="many_to_one")
    return CurrentData("service-log", str(base.absolute()), log, "feedback" if labelled else None)


def _check_columns(rows: pandas.DataFrame, columns: list[str], where: str) -> None:
    """``MonitorError`` naming the feature columns ``rows`` lacks."""
    missing = [c for c in columns if c not in rows.columns]
    if missing:
        raise MonitorError(
            f"{where} lacks the model's feature column(s) {', '.join(missing)}",
            name=missing[0],
        )
