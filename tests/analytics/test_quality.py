"""Data quality figures on the hand-made fixture."""

from __future__ import annotations

import datetime as dt

from analytics import quality


def test_days_without_sales_counts_business_days_only(fixture_con):
    # Sales on Thu 4, Sat 6, Mon 8, Tue 9 Jan and Thu 1 Feb 2024. Mondays to Fridays from
    # 4 Jan to 1 Feb: 2 + 5 + 5 + 5 + 4 = 21, of which 4 have sales (Saturday's does not
    # count); 17 gaps, where counting calendar days made it 29 - 5 = 24.
    result = quality.coverage(fixture_con)
    assert (result["first"], result["last"]) == (dt.date(2024, 1, 4), dt.date(2024, 2, 1))
    assert result["lines"] == 7
    assert result["days_without_sales"] == 17


def test_an_empty_store_has_no_gaps(fixture_con):
    fixture_con.execute("DELETE FROM order_lines")
    fixture_con.execute("DELETE FROM currency_daily")
    assert quality.coverage(fixture_con)["days_without_sales"] == 0
