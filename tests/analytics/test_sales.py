"""The one order-line source: each line at its day's rate, or at a span's average rates."""

from __future__ import annotations

import datetime as dt

import pytest

from analytics import db, sales
from analytics.filters import Filters
from analytics.periods import Period

D = dt.date


def test_order_lines_reported_and_constant(fixture_con):
    src, params = sales.order_lines(
        "USD",
        [(D(2024, 1, 8), D(2024, 1, 9))],
        base_rates=(D(2024, 1, 4), D(2024, 1, 5)),
    )
    frame = db.query(
        fixture_con,
        f"SELECT order_id, line_no, revenue_reported, cost_reported, revenue_constant "
        f"FROM ({src}) ORDER BY 1, 2",
        params,
    ).set_index(["order_id", "line_no"])
    # O3/1: 300 USD on 8 Jan, reported in USD is 300 (EUR 250 at 1.20 x 1.20).
    assert frame.loc[("O3", 1), "revenue_reported"] == pytest.approx(300)
    assert frame.loc[("O3", 1), "cost_reported"] == pytest.approx(5 * 20 * 1.20)
    assert frame.loc[("O3", 1), "revenue_constant"] == pytest.approx(300)  # USD -> USD: 1
    # O5/1: 240 GBP on 9 Jan; at 9 Jan's rates 300 EUR = 300 USD; constant: the mean over
    # 4-5 Jan of USD/GBP (1.08 / 0.85, 1.10 / 0.86).
    assert frame.loc[("O5", 1), "revenue_reported"] == pytest.approx(240 / 0.80 * 1.00)
    assert frame.loc[("O5", 1), "revenue_constant"] == pytest.approx(
        240 * (1.08 / 0.85 + 1.10 / 0.86) / 2
    )
    assert sorted(frame.index.get_level_values(0)) == ["O3", "O3", "O4", "O5"]


def test_order_lines_two_ranges_filters_and_extra_conditions(fixture_con):
    filters = Filters(
        period=Period(D(2024, 1, 1), D(2024, 1, 31), "Jan"),
        comparison=Period(D(2023, 12, 1), D(2023, 12, 31), "Dec"),
        countries=("US",),
    )
    src, params = sales.order_lines(
        "EUR",
        [(D(2024, 1, 4), D(2024, 1, 4)), (D(2024, 2, 1), D(2024, 2, 1))],
        filters=filters,
        conditions=["o.quantity > $least"],
        params={"least": 0},
        key="x",
    )
    rows = db.query_rows(
        fixture_con, f"SELECT order_id, revenue_reported FROM ({src}) ORDER BY 1", params
    )
    # US lines on 4 Jan (O1) and 1 Feb (O6); 8 Jan's O3 is outside both ranges.
    assert rows == [("O1", pytest.approx(450 / 1.08)), ("O6", pytest.approx(100))]
    with pytest.raises(ValueError):
        sales.order_lines("EUR", [])
