"""Five-field cron expressions (minute hour day-of-month month day-of-week), in UTC.

Each field is ``*``, a number, a range ``a-b``, a step ``*/n`` or ``a-b/n`` (``a/n``: from
``a`` to the field's end), or a comma-separated list of those. Months and days of the week
also take their English three-letter names (``jan``, ``mon``); day of the week is 0-7, both
0 and 7 being Sunday. As in Vixie cron, when both day-of-month and day-of-week are
restricted (neither starts with ``*``), a day matches when *either* matches; otherwise both
must.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from jupyter_mlops.errors import TriggerConfigError

MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
# (name, lowest, highest, names of the values from `lowest` on)
FIELDS = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()),
    ("month", 1, 12, MONTHS),
    ("day of week", 0, 7, DAYS),
)
SEARCH_DAYS = 366 * 5  # a cron time is looked for this far ahead (covers 29 February)


@dataclass(frozen=True)
class Cron:
    """A parsed expression: the allowed values of each field."""

    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday (7 folded into 0)
    days_restricted: bool
    weekdays_restricted: bool

    def matches(self, when: datetime) -> bool:
        """Whether the minute of ``when`` is a time of this expression."""
        return (
            when.minute in self.minutes
            and when.hour in self.hours
            and when.month in self.months
            and self.day_matches(when)
        )

    def day_matches(self, when: datetime) -> bool:
        """The day-of-month / day-of-week rule (either, when both are restricted)."""
        in_month = when.day in self.days
        in_week = (when.isoweekday() % 7) in self.weekdays
        if self.days_restricted and self.weekdays_restricted:
            return in_month or in_week
        return in_month and in_week

    def next_after(self, when: datetime) -> datetime:
        """The first time of this expression strictly after ``when`` (to the minute)."""
        moment = when.replace(second=0, microsecond=0) + timedelta(minutes=1)
        limit = moment + timedelta(days=SEARCH_DAYS)
        while moment < limit:
            if moment.month not in self.months or not self.day_matches(moment):
                moment = (moment + timedelta(days=1)).replace(hour=0, minute=0)
            elif moment.hour not in self.hours:
                moment = (moment + timedelta(hours=1)).replace(minute=0)
            elif moment.minute not in self.minutes:
                moment += timedelta(minutes=1)
            else:
                return moment
        raise TriggerConfigError(f"cron '{self.text}' names no day that exists (e.g. 30 February)")

    def last_at_or_before(self, when: datetime) -> datetime | None:
        """The latest time of this expression at or before ``when`` (None: none in years)."""
        moment = when.replace(second=0, microsecond=0)
        limit = moment - timedelta(days=SEARCH_DAYS)
        while moment > limit:
            if moment.month not in self.months or not self.day_matches(moment):
                moment = moment.replace(hour=0, minute=0) - timedelta(minutes=1)
            elif moment.hour not in self.hours:
                moment = moment.replace(minute=0) - timedelta(minutes=1)
            elif moment.minute not in self.minutes:
                moment -= timedelta(minutes=1)
            else:
                return moment
        return None

    def passed_between(self, start: datetime, end: datetime) -> datetime | None:
        """The latest time of this expression in ``(start, end]``, or None."""
        found = self.last_at_or_before(end)
        return found if found is not None and found > start else None


def parse_cron(text: str, where: str = "cron") -> Cron:
    """Parse ``text``; ``TriggerConfigError`` naming ``where`` and the field at fault."""
    if not isinstance(text, str):
        raise TriggerConfigError(f"{where}: must be a 5-field cron expression, not {text!r}")
    parts = text.split()
    if len(parts) != len(FIELDS):
        raise TriggerConfigError(
            f"{where}: '{text}' must have 5 fields (minute hour day-of-month month "
            f"day-of-week), not {len(parts)}",
            name=where,
        )
    values = [
        _field(part, spec, f"{where}: '{text}'") for part, spec in zip(parts, FIELDS, strict=True)
    ]
    weekdays = frozenset(0 if day == 7 else day for day in values[4])
    minutes, hours, days, months, _ = values
    cron = Cron(
        text,
        minutes,
        hours,
        days,
        months,
        weekdays,
        days_restricted=not parts[2].startswith("*"),
        weekdays_restricted=not parts[4].startswith("*"),
    )
    if cron.last_at_or_before(datetime(2032, 12, 31, 23, 59, tzinfo=UTC)) is None:
        raise TriggerConfigError(
            f"{where}: '{text}' names no day that exists (e.g. 30 February)", name=where
        )
    return cron


def _field(text: str, spec: tuple[str, int, int, tuple[str, ...]], where: str) -> frozenset[int]:
    name, low, high, names = spec
    allowed: set[int] = set()
    for item in text.split(","):
        allowed |= _item(item, name, low, high, names, where)
    return frozenset(allowed)


def _item(
    item: str, name: str, low: int, high: int, names: tuple[str, ...], where: str
) -> set[int]:
    span, _, step_text = item.partition("/")
    step = 1
    if step_text or item.endswith("/"):
        step = _number(step_text, name, where, names=())
        if step < 1:
            raise TriggerConfigError(f"{where}: {name} step must be 1 or more, not '{item}'")
    if span == "*":
        first, last = low, high
    else:
        start, dash, end = span.partition("-")
        first = _number(start, name, where, names, low)
        last = _number(end, name, where, names, low) if dash else (high if step_text else first)
    for value in (first, last):
        if not low <= value <= high:
            raise TriggerConfigError(
                f"{where}: {name} {value} is out of range {low}-{high} (in '{item}')"
            )
    if first > last:
        raise TriggerConfigError(f"{where}: {name} range '{span}' runs backwards")
    return set(range(first, last + 1, step))


def _number(text: str, name: str, where: str, names: tuple[str, ...], low: int = 0) -> int:
    if text.lower() in names:
        return names.index(text.lower()) + low
    if not text.isdigit():
        raise TriggerConfigError(f"{where}: {name} '{text}' is not a number")
    return int(text)
