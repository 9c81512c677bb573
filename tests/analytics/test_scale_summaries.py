"""Issue 19 (branch scale): the page queries that read the lines per period now read
summaries, and give what the line-level definitions give.

Each figure is computed twice, through the summaries and with use_summary=False (the
order_lines definition), on the demo store over whole-quarter, year-to-date, partial-month
and one-day periods, and the summary tables are checked against sums over order_lines.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pytest

from analytics import pricing
from analytics.crm import activity, attainment
from analytics.crm.scope import Scope
from analytics.periods import Period

D = dt.date


@pytest.fixture(scope="module")
def demo(demo_db_path):
    con = duckdb.connect(str(demo_db_path), read_only=True)
    yield con
    con.close()


def periods_of(con) -> list[Period]:
    last = con.execute("SELECT max(order_date) FROM order_lines").fetchone()[0]
    y = last.year
    return [
        Period(D(y, 4, 1), D(y, 6, 30), "a quarter"),
        Period(D(y, 1, 1), D(y, 6, 30), "year to date"),
        Period(D(y - 1, 11, 14), D(y, 2, 3), "partial months at both ends"),
        Period(D(y, 4, 1), D(y, 4, 1), "one day (a quarter's first, so quotas apply)"),
        Period(D(y - 3, 1, 1), D(y, 6, 30), "several years"),
    ]


def test_rep_monthly_holds_the_lines_sums(demo):
    """Per month, rep, country and currency: the lines, their local and EUR net sums."""
    keys = "CAST(date_trunc('month', order_date) AS DATE), rep_id, country_code, currency_code"
    lines = demo.execute(
        f"SELECT {keys}, count(*), sum(net_amount_local), sum(net_amount_eur) "
        f"FROM order_lines GROUP BY ALL ORDER BY ALL"
    ).df()
    stored = demo.execute(
        "SELECT month, rep_id, country_code, currency_code, line_count, net_amount_local, "
        "net_amount_eur FROM rep_monthly ORDER BY ALL"
    ).df()
    assert len(stored) == len(lines) > 1000
    pd.testing.assert_frame_equal(
        stored.set_axis(range(7), axis=1),
        lines.set_axis(range(7), axis=1),
        check_dtype=False,
        rtol=1e-12,
    )


@pytest.mark.parametrize("basis", ["plan", "reported"])
@pytest.mark.parametrize(
    "scope", [Scope(), Scope(regions=("Western Europe",)), Scope(regions=("Americas",))]
)
def test_attainment_from_the_summary_equals_the_lines(demo, basis, scope):
    for period in periods_of(demo):
        via_summary = attainment.booked_vs_quota(demo, period, scope, basis)
        via_lines = attainment.booked_vs_quota(demo, period, scope, basis, use_summary=False)
        assert len(via_summary) > 0, period.label
        pd.testing.assert_frame_equal(
            via_summary.sort_values("rep_id", ignore_index=True),
            via_lines.sort_values("rep_id", ignore_index=True),
            rtol=1e-9,
        )


def test_attainment_by_hand_from_the_lines(demo):
    """One rep's booked EUR in a quarter, summed in Python over their lines."""
    period = periods_of(demo)[0]
    board = attainment.booked_vs_quota(demo, period, Scope(), "reported").set_index("rep_id")
    rep_id = board["booked_eur"].idxmax()
    amounts = demo.execute(
        "SELECT net_amount_eur FROM order_lines WHERE rep_id = ? AND order_date BETWEEN ? AND ?",
        [rep_id, period.start, period.end],
    ).fetchall()
    assert board.loc[rep_id, "booked_eur"] == pytest.approx(sum(a for (a,) in amounts), rel=1e-12)


@pytest.mark.parametrize("by", ["rep", "account"])
@pytest.mark.parametrize("currency", ["EUR", "USD"])
@pytest.mark.parametrize("regions", [(), ("Western Europe",)])
def test_activity_impact_from_the_summaries_equals_the_lines(demo, by, currency, regions):
    scope = Scope(regions=regions, currency=currency)
    for period in periods_of(demo):
        via_summary = activity.activity_impact(demo, period, scope, by)
        via_lines = activity.activity_impact(demo, period, scope, by, use_summary=False)
        assert via_summary["revenue"].abs().sum() > 0, period.label
        pd.testing.assert_frame_equal(
            via_summary.sort_values("key", ignore_index=True),
            via_lines.sort_values("key", ignore_index=True),
            rtol=1e-9,
        )


def test_activity_impact_revenue_by_hand(demo):
    """One account's revenue in a quarter, summed in Python over its lines (EUR)."""
    period = periods_of(demo)[0]
    frame = activity.activity_impact(demo, period, Scope(), "account").set_index("key")
    customer = frame["revenue"].idxmax()
    amounts = demo.execute(
        "SELECT net_amount_eur FROM order_lines WHERE customer_id = ? "
        "AND order_date BETWEEN ? AND ?",
        [customer, period.start, period.end],
    ).fetchall()
    assert frame.loc[customer, "revenue"] == pytest.approx(sum(a for (a,) in amounts), rel=1e-12)


def test_key_lines_count_the_lines_per_customer_and_product(demo):
    stored = demo.execute(
        "SELECT kind, key_id, country_code, line_count FROM key_lines ORDER BY ALL"
    ).fetchall()
    lines = demo.execute(
        """
        SELECT * FROM (
            SELECT 'customer', customer_id, country_code, count(*) FROM order_lines GROUP BY ALL
            UNION ALL
            SELECT 'product', product_id, country_code, count(*) FROM order_lines GROUP BY ALL
        ) ORDER BY ALL
        """
    ).fetchall()
    assert stored == lines and len(stored) > 1000


@pytest.mark.parametrize(
    "choice",
    [{}, {"product_lines": ("Sensors",)}, {"products": ("P001", "P017")}],
)
def test_pricing_baseline_from_the_summary_equals_the_lines(demo, choice):
    countries = [
        c for (c,) in demo.execute("SELECT DISTINCT country_code FROM order_lines").fetchall()
    ]
    markets = 0
    for period in periods_of(demo):
        scenario = pricing.Scenario(
            countries=tuple(sorted(countries)),
            baseline_start=period.start,
            baseline_end=period.end,
            currency="USD",
            **choice,
        )
        via_summary = pricing.baseline(demo, scenario)
        via_lines = pricing.baseline(demo, scenario, use_summary=False)
        markets += len(via_summary)
        pd.testing.assert_frame_equal(
            via_summary.sort_values(["country_code", "currency_code"], ignore_index=True),
            via_lines.sort_values(["country_code", "currency_code"], ignore_index=True),
            rtol=1e-9,
        )
        assert via_summary.attrs["no_units"] == via_lines.attrs["no_units"]
        assert via_summary.attrs["margin_coverage"] == pytest.approx(
            via_lines.attrs["margin_coverage"], rel=1e-12, nan_ok=True
        )
    assert markets > 20


def test_item_monthly_holds_the_known_cost_units(demo):
    keys = "CAST(date_trunc('month', order_date) AS DATE), product_id, country_code, currency_code, channel"
    lines = demo.execute(
        f"SELECT {keys}, coalesce(sum(quantity) FILTER (WHERE unit_cost_eur IS NOT NULL), 0) "
        "FROM order_lines GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    stored = demo.execute(
        "SELECT month, product_id, country_code, currency_code, channel, known_cost_units "
        "FROM item_monthly ORDER BY ALL"
    ).fetchall()
    assert stored == lines
