"""The metric definitions are the SQL that runs, and the one ratio every figure divides by."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from analytics import metrics


def test_ratio_is_nan_for_a_zero_or_missing_denominator():
    assert metrics.ratio(3, 4) == 0.75
    assert np.isnan(metrics.ratio(3, 0))
    assert np.isnan(metrics.ratio(3, None))
    assert np.isnan(metrics.ratio(3, float("nan")))
    out = metrics.ratio(pd.Series([1.0, 2.0, 3.0]), pd.Series([2, 0, np.nan]))
    assert out.iloc[0] == 0.5 and out.iloc[1:].isna().all()
    assert metrics.ratio(pd.Series([1.0, 3.0]), 4).tolist() == [0.25, 0.75]
    assert metrics.ratio(pd.Series([1.0, 3.0]), 0).isna().all()


def test_margin_and_growth_over_fetched_sums():
    assert metrics.gross_margin_pct(200.0, 150.0) == 0.25
    assert np.isnan(metrics.gross_margin_pct(0.0, 10.0))
    assert metrics.growth(110.0, 100.0) == pytest.approx(0.1)
    assert metrics.growth(pd.Series([50.0]), pd.Series([0.0])).isna().all()


def test_the_definition_is_the_sql_that_runs():
    assert metrics.expression("gross_margin_pct") == metrics.METRICS["gross_margin_pct"].sql
    bound = metrics.expression("gross_margin", {"revenue": "rev_cc", "cost": "cost_cc"}, "cur")
    assert bound == "sum(known_rev_cc) FILTER (WHERE cur) - sum(cost_cc) FILTER (WHERE cur)"
    con = duckdb.connect(":memory:")
    con.execute(
        "CREATE TABLE t AS SELECT * FROM (VALUES (100.0, 100.0, 60.0, 2, true), "
        "(100.0, 50.0, 20.0, 1, true), (50.0, 50.0, 50.0, 9, false)) "
        "v(rev_cc, known_rev_cc, cost_cc, units, cur)"
    )
    names = (("net_revenue", "revenue"), "gross_margin_pct", "margin_coverage", "units")
    row = con.execute(
        "SELECT "
        + metrics.select_list(names, {"revenue": "rev_cc", "cost": "cost_cc"}, "cur")
        + " FROM t"
    ).fetchone()
    # Current rows: revenue 200 of which 150 with a known cost of 80, units 3 -> margin
    # 70 / 150 (not 120 / 200), on 150 / 200 of the revenue.
    assert row == pytest.approx((200.0, 70 / 150, 0.75, 3))


def test_only_column_names_can_be_bound():
    with pytest.raises(ValueError):
        metrics.expression("net_revenue", {"revenue": "revenue; DROP TABLE x"})
    with pytest.raises(ValueError):
        metrics.select_list(["units"], where="1=1 OR cur")
    with pytest.raises(ValueError, match="own query"):
        metrics.expression("orders")
    with pytest.raises(KeyError, match="known"):
        metrics.expression("nope")


def test_ratio_growth_and_margin_on_arrays():
    revenue = np.array([120.0, 0.0, 50.0, np.nan])
    prior = np.array([100.0, 10.0, 0.0, 5.0])
    got = metrics.growth(revenue, prior)
    assert isinstance(got, np.ndarray)
    assert got[0] == pytest.approx(0.2) and got[1] == -1.0
    assert np.isnan(got[2]) and np.isnan(got[3])  # no base, no value: never inf
    known, cost = np.array([80.0, 0.0]), np.array([60.0, 0.0])
    margin = metrics.gross_margin_pct(known, cost)
    assert margin[0] == pytest.approx(0.25) and np.isnan(margin[1])
    # the same as the Series form, element for element
    series = metrics.growth(pd.Series(revenue), pd.Series(prior)).to_numpy()
    assert np.array_equal(got, series, equal_nan=True)
