"""Steps seen in this kernel session: what each ``%%mlstep`` cell read, wrote and produced.

Core module: no IPython import. The magics (and later the side panel) feed it; it never runs code.
Output summaries look at attributes only (``.shape``, ``.dtypes``, ``.dtype``, ``len``), so
pandas and numpy are never imported here.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from jupyter_mlops.authoring.stepline import StepOptions

MAX_DTYPES_SHOWN = 8
_BUILTIN_NAMES = frozenset(dir(builtins))


@dataclass(frozen=True)
class OutputSummary:
    """A short description of one value a step wrote: type, shape, dtypes, length."""

    name: str
    type: str
    shape: tuple[int, ...] | None = None
    dtypes: tuple[tuple[str, str], ...] | str | None = None  # per column, or one array dtype
    length: int | None = None
    more_columns: int = 0  # columns not listed in ``dtypes``

    def describe(self) -> str:
        """E.g. ``df: DataFrame (100, 3) [a: int64, b: float64, c: str]``."""
        text = f"{self.name}: {self.type}"
        if self.shape is not None:
            text += (
                " ("
                + ", ".join(str(n) for n in self.shape)
                + ("," if len(self.shape) == 1 else "")
                + ")"
            )
        elif self.length is not None:
            text += f" len={self.length}"
        if isinstance(self.dtypes, str):
            text += f" {self.dtypes}"
        elif self.dtypes:
            cols = ", ".join(f"{col}: {dtype}" for col, dtype in self.dtypes)
            if self.more_columns:
                cols += f", … {self.more_columns} more"
            text += f" [{cols}]"
        return text

    def to_json(self) -> dict[str, Any]:
        """Plain JSON form (for the side panel and ``--json`` outputs)."""
        dtypes: Any = self.dtypes
        if isinstance(dtypes, tuple):
            dtypes = {col: dtype for col, dtype in dtypes}
        return {
            "name": self.name,
            "type": self.type,
            "shape": list(self.shape) if self.shape is not None else None,
            "dtypes": dtypes,
            "length": self.length,
        }


def summarize_value(name: str, value: object) -> OutputSummary:
    """Describe ``value`` without importing its library; never raises."""
    type_name = type(value).__name__
    if isinstance(value, type):
        return OutputSummary(name, type_name)
    shape = _shape(value)
    dtypes: tuple[tuple[str, str], ...] | str | None = None
    more = 0
    length = None
    if shape is not None:
        dtypes, more = _dtypes(value)
    else:
        length = _length(value)
    return OutputSummary(name, type_name, shape, dtypes, length, more)


def _shape(value: object) -> tuple[int, ...] | None:
    try:
        shape = getattr(value, "shape", None)
    except Exception:
        return None
    if isinstance(shape, tuple) and all(isinstance(n, int) for n in shape):
        return tuple(int(n) for n in shape)
    return None


def _dtypes(value: object) -> tuple[tuple[tuple[str, str], ...] | str | None, int]:
    """Column dtypes for a DataFrame-like value, or the one dtype of an array/Series."""
    try:
        dtypes = getattr(value, "dtypes", None)
        items = getattr(dtypes, "items", None)
        if callable(items):  # pandas: a Series of dtypes indexed by column
            pairs = []
            total = len(dtypes)  # type: ignore[arg-type]
            for i, (col, dtype) in enumerate(items()):
                if i == MAX_DTYPES_SHOWN:
                    break
                pairs.append((str(col), str(dtype)))
            return tuple(pairs), total - len(pairs)
        columns = getattr(value, "columns", None)
        if isinstance(dtypes, list) and isinstance(columns, list):  # polars
            pairs = [(str(c), str(d)) for c, d in zip(columns, dtypes, strict=False)]
            return tuple(pairs[:MAX_DTYPES_SHOWN]), max(0, len(pairs) - MAX_DTYPES_SHOWN)
        dtype = getattr(value, "dtype", None)  # numpy array, pandas Series
        if dtype is not None:
            return str(dtype), 0
    except Exception:
        pass
    return None, 0


def _length(value: object) -> int | None:
    if not hasattr(type(value), "__len__"):
        return None
    try:
        return len(value)  # type: ignore[arg-type]
    except Exception:
        return None


@dataclass
class StepRecord:
    """One step as last run in this session."""

    name: str
    code: str
    reads: list[str]
    writes: list[str]
    duration: float  # seconds
    state: str  # "ok" | "failed"
    outputs: list[OutputSummary] = field(default_factory=list)
    error: str | None = None  # "ValueError: boom" when state == "failed"
    runs: int = 1
    options: StepOptions | None = None

    def to_json(self) -> dict[str, Any]:
        """Plain JSON form (for the side panel)."""
        return {
            "name": self.name,
            "state": self.state,
            "duration": self.duration,
            "reads": list(self.reads),
            "writes": list(self.writes),
            "outputs": [o.to_json() for o in self.outputs],
            "error": self.error,
            "runs": self.runs,
        }


def step_io(options: StepOptions, code: str, analyze: Any = None) -> tuple[list[str], list[str]]:
    """The names a step reads and writes: ``--inputs/--outputs`` when given, else analysis.

    ``analyze`` is ``jupyter_mlops.authoring.analysis.analyze_code`` (injectable for tests); it is only
    called when an explicit option does not already answer. Raises SyntaxError like analysis.
    """
    reads = list(options.inputs) if options.inputs is not None else None
    writes = list(options.outputs) if options.outputs is not None else None
    if reads is None or writes is None:
        if analyze is None:
            from jupyter_mlops.authoring.analysis import analyze_code as analyze
        found = analyze(code)
        if reads is None:
            reads = [n for n in found.reads if n not in _BUILTIN_NAMES]
        if writes is None:
            writes = list(found.writes)
    return reads, writes


class StepSession:
    """The steps run in one kernel session, in the order each was first run.

    Re-running a step replaces its record in place, so the listing (and the DAG) keep the
    order the steps were written in rather than the order of the latest re-runs.
    """

    def __init__(self) -> None:
        self._records: dict[str, StepRecord] = {}

    @property
    def steps(self) -> list[StepRecord]:
        """Records in first-run order."""
        return list(self._records.values())

    def get(self, name: str) -> StepRecord | None:
        """The record of step ``name``, or None."""
        return self._records.get(name)

    def clear(self) -> None:
        """Forget every step."""
        self._records.clear()

    def record(
        self,
        options: StepOptions,
        code: str,
        reads: list[str],
        writes: list[str],
        duration: float,
        namespace: Mapping[str, object],
        error: BaseException | None = None,
    ) -> StepRecord:
        """Store what one run of a step did; summarizes its outputs from ``namespace``."""
        previous = self._records.get(options.name)
        outputs = [] if error is not None else summarize_outputs(writes, namespace)
        record = StepRecord(
            name=options.name,
            code=code,
            reads=reads,
            writes=writes,
            duration=duration,
            state="failed" if error is not None else "ok",
            outputs=outputs,
            error=_error_line(error) if error is not None else None,
            runs=previous.runs + 1 if previous is not None else 1,
            options=options,
        )
        self._records[options.name] = record
        return record

    def dependencies(self) -> list[tuple[str, list[str]]]:
        """Each step with the steps it depends on (the input of ``dag.render_*``).

        A step depends, for each name it reads, on the most recent earlier step that wrote it.
        """
        last_writer: dict[str, str] = {}
        graph: list[tuple[str, list[str]]] = []
        for rec in self._records.values():
            upstream: list[str] = []
            for name in rec.reads:
                producer = last_writer.get(name)
                if producer is not None and producer not in upstream:
                    upstream.append(producer)
            graph.append((rec.name, upstream))
            for name in rec.writes:
                last_writer[name] = rec.name
        return graph


def summarize_outputs(
    writes: Iterable[str], namespace: Mapping[str, object]
) -> list[OutputSummary]:
    """Summaries of the written names still present in ``namespace``."""
    return [summarize_value(name, namespace[name]) for name in writes if name in namespace]


def _error_line(error: BaseException) -> str:
    message = str(error).strip().splitlines()
    return f"{type(error).__name__}: {message[0]}" if message else type(error).__name__


def format_duration(seconds: float) -> str:
    """Human form: ``850 µs``, ``12.3 ms``, ``4.21 s``, ``3 min 05 s``."""
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    if seconds < 60:
        return f"{seconds:.2f} s"
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes} min {rest:02d} s"


_COLUMNS = ("step", "state", "duration", "reads → writes", "outputs")


def _rows(records: list[StepRecord]) -> list[tuple[str, str, str, str, str]]:
    rows = []
    for rec in records:
        io = f"{', '.join(rec.reads) or '-'} → {', '.join(rec.writes) or '-'}"
        detail = rec.error if rec.error else "; ".join(o.describe() for o in rec.outputs)
        rows.append((rec.name, rec.state, format_duration(rec.duration), io, detail or "-"))
    return rows


def steps_table_text(records: list[StepRecord]) -> str:
    """The records as an aligned plain-text table."""
    if not records:
        return "No steps run in this session yet (mark a cell with %%mlstep NAME and run it)."
    rows = [_COLUMNS, *_rows(records)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_COLUMNS) - 1)]
    lines = []
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    lines.insert(1, "  ".join("-" * w for w in [*widths, len(_COLUMNS[-1])]))
    return "\n".join(lines)


def steps_table_html(records: list[StepRecord]) -> str:
    """The records as an HTML table (values escaped)."""
    from html import escape

    if not records:
        return f"<p>{escape(steps_table_text(records))}</p>"
    head = "".join(f"<th>{escape(c)}</th>" for c in _COLUMNS)
    body = []
    for row in _rows(records):
        cells = "".join(f"<td>{escape(c)}</td>" for c in row)
        body.append(f"<tr>{cells}</tr>")
    return (
        '<table class="jupyter-mlops-steps"><thead><tr>'
        + head
        + "</tr></thead><tbody>"
        + "".join(body)
        + "</tbody></table>"
    )
