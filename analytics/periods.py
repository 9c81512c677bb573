"""Periods and calendar quarters: the one place dates are turned into ranges and labels."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Period:
    """An inclusive date range with the words to show for it."""

    start: dt.date
    end: dt.date
    label: str

    def __post_init__(self):
        if self.end < self.start:
            raise ValueError(f"The period ends ({self.end}) before it starts ({self.start}).")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day-of-month `months` later (clamped to the month's last day)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


def _end_of_february(day: dt.date) -> bool:
    return day.month == 2 and (day + dt.timedelta(days=1)).month == 3


def same_dates_year_earlier(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The same calendar days one year earlier, with one rule for 29 February: a window
    ending on the last day of February ends on the last day of February a year earlier
    (28 Feb 2025 -> 29 Feb 2024, 29 Feb 2024 -> 28 Feb 2023), so February, or a year to date
    through February, is compared with the whole earlier February; a window starting on
    29 February starts on 28 February. Any other day keeps its day and month."""
    first = start.replace(year=start.year - 1, day=min(start.day, 28 if start.month == 2 else 31))
    if _end_of_february(end):
        last = dt.date(end.year - 1, 3, 1) - dt.timedelta(days=1)
    else:
        last = end.replace(year=end.year - 1)
    return first, last


def quarter_start(day: dt.date) -> dt.date:
    """First day of the calendar quarter `day` falls in."""
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def quarter_label(start: dt.date) -> str:
    """'Q3 2026' for any day of that quarter."""
    return f"Q{(start.month - 1) // 3 + 1} {start.year}"


def quarter(day: dt.date) -> Period:
    """The calendar quarter `day` falls in."""
    start = quarter_start(day)
    return Period(start, add_months(start, 3) - dt.timedelta(days=1), quarter_label(start))


def quarter_key(period: Period) -> str:
    """'2026Q3' — how a quarter is written in a link."""
    return f"{period.start.year}Q{(period.start.month - 1) // 3 + 1}"


def parse_quarter_key(key: str) -> Period:
    """'2026Q3' (also '2026-Q3') -> Q3 2026; a clear ValueError for anything else."""
    text = key.strip().upper().replace("-", "")
    year, sep, number = text.partition("Q")
    if not (sep and year.isdigit() and number in {"1", "2", "3", "4"}):
        raise ValueError(f"“{key}” is not a quarter; write it like 2026Q3.")
    return quarter(dt.date(int(year), 3 * int(number) - 2, 1))


def quarter_starts(first: dt.date, last: dt.date) -> list[dt.date]:
    """First days of every quarter from the one holding `first` to the one holding `last`."""
    starts, start = [], quarter_start(first)
    while start <= last:
        starts.append(start)
        start = add_months(start, 3)
    return starts


def full_quarters(first: dt.date, last: dt.date) -> list[Period]:
    """The complete quarters between the first and last day with data, newest first."""
    quarters = []
    start = quarter_start(first)
    if start < first:
        start = add_months(start, 3)
    while (q := quarter(start)).end <= last:
        quarters.append(q)
        start = add_months(start, 3)
    return quarters[::-1]
