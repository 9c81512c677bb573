"""Periods: the same dates a year earlier, and 29 February."""

from __future__ import annotations

import datetime as dt

import pytest

from analytics import markets
from analytics.filters import comparison_period
from analytics.periods import Period, same_dates_year_earlier

D = dt.date


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        # February 2025 is compared with the whole of February 2024, 29th included.
        (D(2025, 2, 1), D(2025, 2, 28), (D(2024, 2, 1), D(2024, 2, 29))),
        (D(2025, 1, 1), D(2025, 2, 28), (D(2024, 1, 1), D(2024, 2, 29))),
        # And the other way: February 2024 (29 days) with February 2023 (28).
        (D(2024, 2, 1), D(2024, 2, 29), (D(2023, 2, 1), D(2023, 2, 28))),
        # A window starting on 29 February starts on the 28th a year earlier.
        (D(2024, 2, 29), D(2024, 3, 31), (D(2023, 2, 28), D(2023, 3, 31))),
        # 28 February as a start, or mid-February as an end, is just that day.
        (D(2025, 2, 28), D(2025, 3, 6), (D(2024, 2, 28), D(2024, 3, 6))),
        (D(2025, 1, 1), D(2025, 2, 14), (D(2024, 1, 1), D(2024, 2, 14))),
        (D(2026, 7, 1), D(2026, 9, 30), (D(2025, 7, 1), D(2025, 9, 30))),
    ],
)
def test_same_dates_a_year_earlier(start, end, expected):
    assert same_dates_year_earlier(start, end) == expected


def test_year_to_date_through_february_keeps_the_leap_day():
    ytd = Period(D(2025, 1, 1), D(2025, 2, 28), "YTD")
    base = comparison_period("ytd", ytd)
    assert (base.start, base.end) == (D(2024, 1, 1), D(2024, 2, 29))
    assert base.days == 60  # 31 + 29: every day of the earlier January and February
    assert base.label == "Same period 2024 (01 Jan 2024 – 29 Feb 2024)"


def test_markets_growth_vs_last_year_keeps_the_leap_day():
    february = markets.last_year(Period(D(2025, 2, 1), D(2025, 2, 28), "Feb 2025"))
    assert (february.start, february.end) == (D(2024, 2, 1), D(2024, 2, 29))
    assert february.label == "Feb 2025 last year"
