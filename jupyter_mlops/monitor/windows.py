"""Time windows: ``--window`` and ``--since`` parsed, and current rows split by their
``time`` column into windows aligned on the epoch (``1h`` windows start on the hour).
Rows without a ``time`` column are one window with no start or end."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from jupyter_mlops.errors import MonitorError

if TYPE_CHECKING:
    import pandas

TIME_COLUMN = "time"
_DURATION = re.compile(r"(?P<count>\d+)\s*(?P<unit>s|m|min|h|d|w)")
_UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}


@dataclass(frozen=True)
class Window:
    """Rows of one window; ``start``/``end`` are None for data without a time column."""

    start: datetime | None
    end: datetime | None
    rows: pandas.DataFrame

    @property
    def label(self) -> str:
        """How the text summary and the MLflow run name show the window."""
        return self.start.isoformat() if self.start else "all rows"


def parse_duration(text: str, option: str = "--window") -> timedelta:
    """``30s``, ``15m``, ``1h``, ``24h``, ``7d``, ``2w`` as a timedelta; ``MonitorError``
    naming the option otherwise."""
    match = _DURATION.fullmatch(text.strip().lower())
    if match is None or int(match["count"]) == 0:
        raise MonitorError(
            f"{option} '{text}' is not a duration like 30m, 1h, 24h or 7d", name=option
        )
    return timedelta(seconds=int(match["count"]) * _UNITS[match["unit"]])


def parse_since(text: str | None, now: datetime | None = None) -> datetime | None:
    """``--since``: an ISO time (UTC when it has no offset) or a duration back from now."""
    if text is None:
        return None
    if _DURATION.fullmatch(text.strip().lower()):
        return (now or datetime.now(UTC)) - parse_duration(text, "--since")
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise MonitorError(
            f"--since '{text}' is neither an ISO time (2026-12-01T10:00) nor a duration (24h)",
            name="--since",
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def split_windows(rows: pandas.DataFrame, size: timedelta) -> Iterator[Window]:
    """The non-empty windows of ``rows`` in time order (one window without a time column)."""
    import pandas

    if TIME_COLUMN not in rows.columns:
        yield Window(None, None, rows.reset_index(drop=True))
        return
    times = pandas.to_datetime(rows[TIME_COLUMN], utc=True)
    starts = times.dt.floor(pandas.Timedelta(size))
    for start, group in rows.groupby(starts, sort=True):
        begin = pandas.Timestamp(start).to_pydatetime()
        yield Window(begin, begin + size, group.reset_index(drop=True))


def since_filter(rows: pandas.DataFrame, since: datetime | None, where: str) -> pandas.DataFrame:
    """The rows at or after ``since``; ``MonitorError`` when ``since`` is given and ``rows``
    has no time column to filter on."""
    import pandas

    if since is None:
        return rows
    if TIME_COLUMN not in rows.columns:
        raise MonitorError(
            f"--since needs a '{TIME_COLUMN}' column and {where} has none", name=TIME_COLUMN
        )
    return rows[pandas.to_datetime(rows[TIME_COLUMN], utc=True) >= since]
