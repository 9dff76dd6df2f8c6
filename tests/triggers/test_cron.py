"""The five-field cron matcher: fields, ranges, steps, lists, names, the day rule, errors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from jupyter_mlops.errors import TriggerConfigError
from jupyter_mlops.triggers.cron import parse_cron


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_fields_ranges_steps_and_lists() -> None:
    cron = parse_cron("*/15 9-17 * * *")
    assert cron.minutes == {0, 15, 30, 45}
    assert cron.hours == set(range(9, 18))
    assert parse_cron("5,10-12,50-59/5 * * * *").minutes == {5, 10, 11, 12, 50, 55}
    assert parse_cron("10/20 * * * *").minutes == {10, 30, 50}
    assert parse_cron("0 0 * jan-mar,dec *").months == {1, 2, 3, 12}
    assert parse_cron("0 0 * * mon-fri").weekdays == {1, 2, 3, 4, 5}
    assert parse_cron("0 0 * * 7").weekdays == {0}  # 7 is Sunday too


def test_matches_to_the_minute() -> None:
    cron = parse_cron("30 3 * * *")
    assert cron.matches(at("2026-12-02T03:30:59"))
    assert not cron.matches(at("2026-12-02T03:31:00"))


def test_day_of_month_or_day_of_week_when_both_are_restricted() -> None:
    cron = parse_cron("0 0 13 * fri")  # the 13th, or any Friday (Vixie cron)
    assert cron.matches(at("2026-12-13T00:00"))  # a Sunday, the 13th
    assert cron.matches(at("2026-12-04T00:00"))  # a Friday, the 4th
    assert not cron.matches(at("2026-12-05T00:00"))
    only_fridays = parse_cron("0 0 * * fri")  # day of month unrestricted: both must match
    assert not only_fridays.matches(at("2026-12-13T00:00"))
    assert only_fridays.matches(at("2026-12-04T00:00"))


def test_next_and_last_times() -> None:
    cron = parse_cron("0 3 * * *")
    assert cron.next_after(at("2026-12-02T03:00")) == at("2026-12-03T03:00")
    assert cron.last_at_or_before(at("2026-12-02T02:59")) == at("2026-12-01T03:00")
    assert cron.passed_between(at("2026-12-01T03:00"), at("2026-12-02T03:00")) == at(
        "2026-12-02T03:00"
    )
    assert cron.passed_between(at("2026-12-02T03:00"), at("2026-12-03T02:59")) is None
    leap = parse_cron("0 0 29 2 *")
    assert leap.next_after(at("2026-12-02T00:00")) == at("2028-02-29T00:00")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("* * * *", "must have 5 fields"),
        ("60 * * * *", "minute 60 is out of range 0-59"),
        ("* 24 * * *", "hour 24 is out of range 0-23"),
        ("* * 0 * *", "day of month 0 is out of range 1-31"),
        ("* * * 13 *", "month 13 is out of range 1-12"),
        ("* * * * 8", "day of week 8 is out of range 0-7"),
        ("*/0 * * * *", "minute step must be 1 or more"),
        ("10-5 * * * *", "minute range '10-5' runs backwards"),
        ("x * * * *", "minute 'x' is not a number"),
        ("* * * foo *", "month 'foo' is not a number"),
        ("0 0 30 2 *", "names no day that exists"),
    ],
)
def test_bad_expressions_are_named(text: str, message: str) -> None:
    with pytest.raises(TriggerConfigError, match=message) as raised:
        parse_cron(text, "triggers.nightly.cron")
    assert str(raised.value).startswith("triggers.nightly.cron: ")
