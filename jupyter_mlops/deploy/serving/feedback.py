"""Outcomes (labels) sent to the prediction service's ``POST /feedback``, joined to the
request log by request id.

A body is ``{"request_id": "...", "label": ...}``, a list of those, or
``{"feedback": [...]}``; a label is a number, a string or a boolean. Each call's items are
stored in ``<folder>/feedback/<model>/<YYYYMMDDTHHMMSSZ>-<seq>.parquet`` (written atomically)
with columns ``request_id``, ``label_json`` (the label as JSON text), ``label`` (typed, present
when every label of the file is a number, or every one a string) and ``received_at``
(timestamp[ms, UTC]). A label applies to every row of its request; the latest label of a
request id wins. Ids the log never saw are stored too (the log may be sampled).
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jupyter_mlops.deploy.serving.parquet_files import read_parquet_files, write_parquet_atomic
from jupyter_mlops.deploy.serving.request_error import bad_request, malformed
from jupyter_mlops.deploy.serving.request_log import read_request_log

if TYPE_CHECKING:
    import pandas

MAX_ITEMS = 10000
MAX_ID_LENGTH = 200
FEEDBACK_KEYS = frozenset({"request_id", "label"})
FEEDBACK_COLUMNS = ("request_id", "label", "received_at")


def parse_feedback(body: bytes, max_items: int = MAX_ITEMS) -> list[tuple[str, Any]]:
    """The ``(request_id, label)`` pairs of a feedback body; a 400 ``RequestError`` naming
    the item and field at fault otherwise."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise malformed(f"feedback body is not valid JSON: {exc}") from None
    if isinstance(document, dict) and "feedback" in document:
        if set(document) != {"feedback"}:
            extra = ", ".join(sorted(set(document) - {"feedback"}))
            raise bad_request(f"feedback body has unknown keys beside 'feedback': {extra}")
        document = document["feedback"]
        if not isinstance(document, list):
            raise bad_request("'feedback' must be a list of {request_id, label} objects")
    items = document if isinstance(document, list) else [document]
    if not items:
        raise bad_request("feedback has no items")
    if len(items) > max_items:
        raise bad_request(f"feedback has {len(items)} items, over the limit of {max_items}")
    return [_parse_item(index, item) for index, item in enumerate(items)]


def _parse_item(index: int, item: Any) -> tuple[str, Any]:
    where = f"feedback item {index}"
    if not isinstance(item, dict):
        raise bad_request(f"{where} is not an object {{request_id, label}}")
    for key in ("request_id", "label"):
        if key not in item:
            raise bad_request(f"{where} has no '{key}'")
    if extra := set(item) - FEEDBACK_KEYS:
        raise bad_request(f"{where} has unknown keys: {', '.join(sorted(extra))}")
    request_id, label = item["request_id"], item["label"]
    if not isinstance(request_id, str) or not request_id or len(request_id) > MAX_ID_LENGTH:
        raise bad_request(
            f"{where}: request_id must be a non-empty string of at most {MAX_ID_LENGTH} characters"
        )
    if not isinstance(label, str | int | float) or (
        isinstance(label, float) and not math.isfinite(label)
    ):
        raise bad_request(
            f"{where}: label must be a number, string or boolean, not {json.dumps(label)[:80]}"
        )
    return request_id, label


def _label_column(labels: list[Any]) -> Any:
    """The typed ``label`` column when all labels are numbers, or all strings; else None."""
    import pyarrow

    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in labels):
        return pyarrow.array([float(v) for v in labels], type=pyarrow.float64())
    if all(isinstance(v, str) for v in labels):
        return pyarrow.array(labels, type=pyarrow.string())
    return None


class FeedbackStore:
    """Feedback files of one model under ``folder``."""

    def __init__(
        self, folder: str | os.PathLike[str], model_name: str, max_items: int = MAX_ITEMS
    ) -> None:
        self.folder = Path(folder)
        self.model_name = model_name
        self.directory = self.folder / "feedback" / model_name
        self.max_items = max_items

    def parse_feedback(self, body: bytes) -> list[tuple[str, Any]]:
        """``parse_feedback`` with this store's item limit."""
        return parse_feedback(body, self.max_items)

    def add(self, items: list[tuple[str, Any]]) -> int:
        """Store ``items`` (from ``parse_feedback``) in one new file; the number stored.
        An ``OSError`` when the file cannot be written."""
        import pyarrow

        if not items:
            return 0
        labels = [label for _, label in items]
        millis = int(time.time() * 1000)
        columns = {
            "request_id": pyarrow.array([rid for rid, _ in items], type=pyarrow.string()),
            "label_json": pyarrow.array([json.dumps(v) for v in labels], type=pyarrow.string()),
            "received_at": pyarrow.array(
                [millis] * len(items), type=pyarrow.timestamp("ms", tz="UTC")
            ),
        }
        typed = _label_column(labels)
        if typed is not None:
            columns["label"] = typed
        write_parquet_atomic(pyarrow.table(columns), self.directory)
        return len(items)

    def read(self) -> pandas.DataFrame:
        """``read_feedback`` of this store."""
        return read_feedback(self.folder, self.model_name)

    def joined(self) -> pandas.DataFrame:
        """``joined`` of this store."""
        return joined(self.folder, self.model_name)


def read_feedback(folder: str | os.PathLike[str], model: str) -> pandas.DataFrame:
    """Every feedback item of ``model``: ``request_id``, ``label`` (the value sent),
    ``received_at``, in the order received."""
    import pandas

    frames = read_parquet_files(Path(folder) / "feedback" / model)
    if not frames:
        return pandas.DataFrame(columns=list(FEEDBACK_COLUMNS))
    stored = pandas.concat(frames, ignore_index=True)
    labels = pandas.Series(
        [json.loads(text) for text in stored["label_json"]], index=stored.index
    ).infer_objects()
    feedback = pandas.DataFrame(
        {
            "request_id": stored["request_id"],
            "label": labels,
            "received_at": stored["received_at"],
        }
    )
    return feedback.sort_values("received_at", kind="stable").reset_index(drop=True)


def joined(folder: str | os.PathLike[str], model: str) -> pandas.DataFrame:
    """The request log rows of ``model`` that have a label, each with its request's latest
    ``label`` and ``received_at``, ordered by time (a logged feature named like one of those
    gets an ``_input`` suffix)."""
    latest = read_feedback(folder, model).drop_duplicates("request_id", keep="last")
    log = read_request_log(folder, model)
    return log.merge(
        latest, on="request_id", how="inner", validate="many_to_one", suffixes=("_input", "")
    )
