"""The prediction service's request log: rotated Parquet files the monitor reads.

``RequestLog.log`` never blocks a request: it samples, then ``put_nowait``s onto a bounded
queue (``max_queue`` requests); when the queue is full, or a file cannot be written, the rows
are dropped and counted (``on_drop``). A daemon thread turns requests into rows and writes
``<folder>/requests/<model>/<YYYYMMDDTHHMMSSZ>-<seq>.parquet`` every ``rotate_rows`` rows or
``rotate_seconds`` seconds, whichever comes first.

File columns: ``request_id``, ``row`` (index of the row in its request: a request of several
rows gives several log rows), ``time`` (timestamp[ms, UTC] of the request), ``model_version``,
one column per input feature with its natural type (a feature whose values mix types is stored
as JSON strings; a feature named like a log column gets an ``input_`` prefix), ``prediction``
(int64, float64, bool or string when every row's prediction is one of those, else JSON
strings), ``latency_ms`` and ``shadow_of`` (the served version a shadow answer was compared
with, else null). A file is written under a hidden temporary name, fsynced, then linked to its
final name, so a reader never sees a partial file.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import queue
import random
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from jupyter_mlops.deploy.serving.parquet_files import (
    as_utc_timestamp,
    read_parquet_files,
    write_parquet_atomic,
)
from jupyter_mlops.errors import DeployError
from jupyter_mlops.execute.engines.base import close_at_exit, closed_already

if TYPE_CHECKING:
    import pandas
    import pyarrow

LOG_COLUMNS = (
    "request_id",
    "row",
    "time",
    "model_version",
    "prediction",
    "latency_ms",
    "shadow_of",
)
MAX_REPORTED = 100  # distinct drop reasons logged; later ones are only counted
CHUNK_ROWS = 1000  # rows turned into an Arrow table at a time by the writer thread
_logger = logging.getLogger(__name__)
_STOP = object()

TableWriter = Callable[["pyarrow.Table", Path], Path]


class LoggedRequest(NamedTuple):
    """One request as ``RequestLog.log`` takes it (``time`` in epoch seconds)."""

    request_id: str
    time: float
    version: str
    columns: Any
    rows: Any
    predictions: Any
    latency_s: float
    shadow_of: str | None = None


class _Flush:
    """A marker asking the writer to write what it holds, then set ``done``."""

    def __init__(self) -> None:
        self.done = threading.Event()


class RequestLog:
    """Logs prediction requests of one model without ever delaying or failing them."""

    def __init__(
        self,
        folder: str | os.PathLike[str],
        model_name: str,
        sample_rate: float = 1.0,
        max_queue: int = 10000,
        rotate_rows: int = 50000,
        rotate_seconds: float = 60.0,
        on_drop: Callable[[int], None] | None = None,
        write_table: TableWriter | None = None,
    ) -> None:
        if not 0.0 <= sample_rate <= 1.0:
            raise DeployError(f"request log sample rate {sample_rate} is not between 0 and 1")
        self.directory = Path(folder) / "requests" / model_name
        self.sample_rate = sample_rate
        self.rotate_rows = rotate_rows
        self.rotate_seconds = rotate_seconds
        self.dropped = 0
        self._on_drop = on_drop
        self._write_table = write_table or write_parquet_atomic
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max_queue)
        self._reported: set[str] = set()
        self._close_lock = threading.Lock()
        self._drop_lock = threading.Lock()
        self._closed = False
        for module in ("pandas", "pyarrow.parquet"):  # pyarrow imports pandas lazily; at
            importlib.import_module(module)  # exit, imports registering atexit would fail
        self._thread = threading.Thread(target=self._run, name="mlops-request-log", daemon=True)
        self._thread.start()
        close_at_exit(self)

    def log(
        self,
        request_id: str,
        time: float,
        version: str,
        columns: Any,
        rows: Any,
        predictions: Any,
        latency_s: float,
        shadow_of: str | None = None,
    ) -> None:
        """Queue one request (``time`` in epoch seconds; ``rows`` a sequence of rows) unless
        it is not sampled; drop and count its rows when the queue is full or the log closed."""
        if self.sample_rate < 1.0 and random.random() >= self.sample_rate:
            return
        request = LoggedRequest(
            request_id, time, version, columns, rows, predictions, latency_s, shadow_of
        )
        if self._closed:
            self._drop_request(request, "the request log is closed")
            return
        try:
            self._queue.put_nowait(request)
        except queue.Full:
            self._drop_request(request, f"the request log queue is full ({self._queue.maxsize})")

    def flush(self, timeout: float = 30.0) -> bool:
        """Write every request queued so far; False when that took over ``timeout`` seconds."""
        if self._closed:
            return not self._thread.is_alive()
        marker = _Flush()
        try:
            self._queue.put(marker, timeout=timeout)
        except queue.Full:
            return False
        return marker.done.wait(timeout)

    def close(self, timeout: float = 30.0) -> None:
        """Write what is pending and stop the writer (waiting at most ``timeout`` seconds)."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        closed_already(self)
        try:
            self._queue.put(_STOP, timeout=timeout)
        except queue.Full:
            _logger.warning("request log %s: writer is stuck; not flushed", self.directory)
            return
        self._thread.join(timeout)

    def _drop_request(self, request: LoggedRequest, reason: str) -> None:
        self._drop(_row_count(request.rows), reason)

    def _drop(self, n: int, reason: str) -> None:
        with self._drop_lock:
            self.dropped += n
        if reason not in self._reported and len(self._reported) < MAX_REPORTED:
            self._reported.add(reason)
            _logger.warning("request log %s: dropping rows: %s", self.directory, reason)
        if self._on_drop is not None:
            try:
                self._on_drop(n)
            except Exception:  # a broken counter must not stop the log
                _logger.exception("request log on_drop callback failed")

    def _run(self) -> None:
        """The writer thread: collect rows, write a file per rotation, until ``_STOP``.
        Rows become Arrow tables ``CHUNK_ROWS`` at a time: building one holds the GIL, so
        a small chunk keeps the pause it causes the service's event loop short."""
        batch = _Batch()
        deadline: float | None = None
        while True:
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                item = self._queue.get(timeout=wait)
            except queue.Empty:
                item = None
            if item is _STOP or isinstance(item, _Flush):
                self._write(batch)
                batch, deadline = _Batch(), None
                if not isinstance(item, _Flush):
                    return
                item.done.set()
                continue
            if item is not None:
                batch.add(self._rows_of(item))
                if deadline is None and batch.rows:
                    deadline = time.monotonic() + self.rotate_seconds
            due = deadline is not None and time.monotonic() >= deadline
            if batch.rows >= self.rotate_rows or due:
                self._write(batch)
                batch, deadline = _Batch(), None

    def _rows_of(self, request: LoggedRequest) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
        try:
            return log_rows(request)
        except Exception as exc:
            self._drop_request(request, f"a request cannot be logged: {exc}")
            return []

    def _write(self, batch: _Batch) -> None:
        if not batch.rows:
            return
        try:
            for table in batch.tables_to_write():
                self._write_table(table, self.directory)
        except Exception as exc:
            self._drop(batch.rows, f"cannot write a request log file: {exc}")


class _Batch:
    """The rows of the next file: Arrow tables of ``CHUNK_ROWS`` rows, plus the rest."""

    def __init__(self) -> None:
        self.tables: list[pyarrow.Table] = []
        self.pending: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
        self.rows = 0

    def add(self, rows: list[tuple[tuple[Any, ...], dict[str, Any]]]) -> None:
        self.pending.extend(rows)
        self.rows += len(rows)
        if len(self.pending) >= CHUNK_ROWS:
            self.tables.append(log_table(self.pending))
            self.pending = []

    def tables_to_write(self) -> list[pyarrow.Table]:
        """One table of every row (chunks whose types differ unified, e.g. int → double),
        or, when a column's types cannot be unified, one table per chunk."""
        import pyarrow

        tables = self.tables + ([log_table(self.pending)] if self.pending else [])
        if len(tables) == 1:
            return tables
        try:
            return [pyarrow.concat_tables(tables, promote_options="permissive")]
        except (pyarrow.ArrowInvalid, pyarrow.ArrowTypeError):
            return tables


def _row_count(rows: Any) -> int:
    try:
        return max(1, len(rows))
    except TypeError:
        return 1


def _plain(value: Any) -> Any:
    """A Python value for a numpy scalar, else ``value``."""
    return value.item() if hasattr(value, "item") and hasattr(value, "dtype") else value


def _feature_rows(columns: Any, rows: Any) -> list[dict[str, Any]]:
    """One ``{feature: value}`` per row of a request (rows, records, columns dict, frame)."""
    if hasattr(rows, "to_dict"):
        return [{str(k): _plain(v) for k, v in r.items()} for r in rows.to_dict("records")]
    if isinstance(rows, dict):
        keys = [str(k) for k in rows]
        return [
            dict(zip(keys, map(_plain, r), strict=True)) for r in zip(*rows.values(), strict=True)
        ]
    if hasattr(rows, "tolist"):
        rows = rows.tolist()
    names = [str(c) for c in columns] if columns is not None else None
    out = []
    for row in rows:
        if isinstance(row, dict):
            out.append({str(k): _plain(v) for k, v in row.items()})
        elif isinstance(row, list | tuple):
            keys = names or [str(i) for i in range(len(row))]
            out.append(dict(zip(keys, map(_plain, row), strict=False)))
        else:
            out.append({names[0] if names else "input": _plain(row)})
    return out


def _row_predictions(predictions: Any, n: int) -> list[Any]:
    """The prediction of each of ``n`` rows (the whole answer per row when it is not one per row)."""
    if hasattr(predictions, "to_dict") and hasattr(predictions, "columns"):
        predictions = predictions.to_dict("records")
    elif hasattr(predictions, "tolist"):
        predictions = predictions.tolist()
    if isinstance(predictions, dict):
        lists = list(predictions.values())
        if all(hasattr(v, "__len__") and len(v) == n for v in lists):
            return [
                {k: _plain(v[i]) for k, v in zip(predictions, lists, strict=True)} for i in range(n)
            ]
    if isinstance(predictions, list | tuple) and len(predictions) == n:
        return [_plain(p) for p in predictions]
    return [predictions] * n


def log_rows(request: LoggedRequest) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
    """The log rows of one request: (fixed fields in ``LOG_COLUMNS`` order, features)."""
    features = _feature_rows(request.columns, request.rows)
    answers = _row_predictions(request.predictions, len(features))
    millis = int(request.time * 1000)
    latency_ms = float(request.latency_s) * 1000.0
    request_id, version = str(request.request_id), str(request.version)
    return [
        ((request_id, i, millis, version, answers[i], latency_ms, request.shadow_of), feats)
        for i, feats in enumerate(features)
    ]


def _typed_array(values: list[Any]) -> pyarrow.Array:
    """``values`` as int64/float64/bool/string when they all are that, else JSON strings."""
    import pyarrow

    kinds = {type(v).__name__ for v in values if v is not None}
    types = {"int": pyarrow.int64(), "bool": pyarrow.bool_(), "str": pyarrow.string()}
    try:
        if len(kinds) == 1 and next(iter(kinds)) in types:
            return pyarrow.array(values, type=types[next(iter(kinds))])
        if kinds <= {"int", "float"}:
            return pyarrow.array(values, type=pyarrow.float64())
    except (pyarrow.ArrowException, OverflowError):
        pass  # e.g. an int over 64 bits: stored as JSON text below
    return pyarrow.array(
        [None if v is None else json.dumps(v, default=str) for v in values],
        type=pyarrow.string(),
    )


def _feature_array(values: list[Any]) -> pyarrow.Array:
    """A feature column in the type pyarrow infers, or JSON strings when the values mix types."""
    import pyarrow

    try:
        return pyarrow.array(values)
    except (pyarrow.ArrowException, TypeError, ValueError, OverflowError):
        return _typed_array([None if v is None else json.dumps(v, default=str) for v in values])


def log_table(rows: list[tuple[tuple[Any, ...], dict[str, Any]]]) -> pyarrow.Table:
    """The Parquet table of ``rows`` (from ``log_rows``), columns as the module docstring says."""
    import pyarrow

    fixed = list(zip(*(r[0] for r in rows), strict=True))
    names: dict[str, None] = {}
    for _, feats in rows:
        names.update(dict.fromkeys(feats))
    columns: dict[str, pyarrow.Array] = {
        "request_id": pyarrow.array(fixed[0], type=pyarrow.string()),
        "row": pyarrow.array(fixed[1], type=pyarrow.int32()),
        "time": pyarrow.array(fixed[2], type=pyarrow.timestamp("ms", tz="UTC")),
        "model_version": pyarrow.array(fixed[3], type=pyarrow.string()),
    }
    for name in names:
        column = f"input_{name}" if name in LOG_COLUMNS else name
        columns[column] = _feature_array([feats.get(name) for _, feats in rows])
    columns["prediction"] = _typed_array(list(fixed[4]))
    columns["latency_ms"] = pyarrow.array(fixed[5], type=pyarrow.float64())
    columns["shadow_of"] = pyarrow.array(fixed[6], type=pyarrow.string())
    return pyarrow.table(columns)


def read_request_log(
    folder: str | os.PathLike[str], model: str | None = None, since: Any = None
) -> pandas.DataFrame:
    """Every logged row of ``model`` (of all models, with a ``model`` column, when None),
    from ``since`` on when given, ordered by time."""
    import pandas

    base = Path(folder) / "requests"
    models = [model] if model is not None else sorted(p.name for p in base.glob("*") if p.is_dir())
    frames = []
    for name in models:
        for frame in read_parquet_files(base / name):
            if model is None:
                frame.insert(0, "model", name)
            frames.append(frame)
    if not frames:
        return pandas.DataFrame(columns=list(LOG_COLUMNS))
    log = pandas.concat(frames, ignore_index=True)
    if since is not None:
        log = log[log["time"] >= as_utc_timestamp(since)]
    return log.sort_values("time", kind="stable").reset_index(drop=True)
