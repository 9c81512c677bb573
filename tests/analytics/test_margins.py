"""Margins over the lines with a known unit cost only, on the fixture (conftest.py) with O5
(9 Jan, GB, 240 GBP = 300 EUR) loaded without a cost and one more GB line that has one:

    O7/1 2024-01-09 GB GBP  1 x 80 = 80 GBP = 100 EUR at 0.80, cost 30 EUR, C2, Sensors, direct

so the GB group of 9 Jan holds 400 EUR of which 100 EUR (80 GBP) has a known cost. Before
this change O5 counted as 100 % margin.
"""

from __future__ import annotations

import datetime as dt

import pytest

from analytics import markets, overview, pricing, review, rollups, sales
from analytics.filters import Filters
from analytics.periods import Period

D = dt.date
CURRENT = Period(D(2024, 1, 8), D(2024, 1, 9), "8–9 Jan")
BASE = Period(D(2024, 1, 4), D(2024, 1, 7), "4–7 Jan")
AVG_GBP_USD = (1.08 / 0.85 + 1.10 / 0.86) / 2
AVG_EUR_USD = (1.08 + 1.10) / 2

# Reported USD, 8-9 Jan: US 300 - 60 at 1.20 USD/EUR (EUR 250 - 50 -> 240 USD), DE 100 EUR at
# 1.00, GB O5 300 EUR and O7 100 EUR at 1.00.
REVENUE = 240 + 100 + 300 + 100
KNOWN = 240 + 100 + 100
# Costs: 8 Jan 5 x 20 - 1 x 10 = 90 EUR at 1.20; 9 Jan 4 x 10 (O4) + 30 (O7) EUR at 1.00.
COST = 90 * 1.20 + 70 * 1.00
# Constant currency at the base period's average rates: local USD 240, EUR 100, GBP 240 + 80.
REVENUE_CC = 240 + 100 * AVG_EUR_USD + 320 * AVG_GBP_USD
KNOWN_CC = 240 + 100 * AVG_EUR_USD + 80 * AVG_GBP_USD
COST_CC = 160 * AVG_EUR_USD


@pytest.fixture
def con(fixture_con):
    fixture_con.execute("UPDATE order_lines SET unit_cost_eur = NULL WHERE order_id = 'O5'")
    fixture_con.execute(
        "INSERT INTO order_lines VALUES ('O7', 1, '2024-01-09', 'C2', 'P1', 'R1', 'GB', "
        "'direct', 'GBP', 1, 80.0, 0.0, 80.0, 100.0, 30.0)"
    )
    rollups.rebuild_sales_rollups(fixture_con)
    return fixture_con


def filters(**kwargs) -> Filters:
    return Filters(**{"period": CURRENT, "comparison": BASE, "currency": "USD"} | kwargs)


def test_overview_margin_is_over_known_cost_revenue_with_its_coverage(con):
    frame = overview.kpis(con, filters()).set_index("metric")
    assert frame.loc["net_revenue", "current"] == pytest.approx(REVENUE)
    assert frame.loc["gross_margin_pct", "current"] == pytest.approx((KNOWN - COST) / KNOWN)
    assert frame.loc["gross_margin_pct", "coverage"] == pytest.approx(KNOWN / REVENUE)
    totals = overview.sales_by(con, filters()).iloc[0]
    assert totals.margin_coverage == pytest.approx(KNOWN / REVENUE)


def test_constant_currency_known_local_is_the_known_eur_at_the_day_rate(con):
    frame = overview.kpis(con, filters(basis="constant")).set_index("metric")
    assert frame.loc["net_revenue", "current"] == pytest.approx(REVENUE_CC, rel=1e-12)
    margin = frame.loc["gross_margin_pct"]
    assert margin.current == pytest.approx((KNOWN_CC - COST_CC) / KNOWN_CC, rel=1e-12)
    assert margin.coverage == pytest.approx(KNOWN_CC / REVENUE_CC, rel=1e-12)


def test_markets_and_review_margins_of_the_gb_market(con):
    card = markets.scorecard(con, filters(), "country").set_index("key")
    # GB, 9 Jan: 400 USD of which 100 with a known cost of 30.
    assert card.loc["GB", "gross_margin_pct"] == pytest.approx(0.7)
    assert card.loc["GB", "margin_coverage"] == pytest.approx(0.25)
    assert card.loc["US", "margin_coverage"] == pytest.approx(1.0)
    regions = review.region_scorecard(con, filters(), "comparison").set_index("region")
    assert regions.loc["Northern Europe", "margin_pct"] == pytest.approx(0.7)
    base_gb = (200 / 0.86 * 1.10 - 60 * 1.10) / (200 / 0.86 * 1.10)
    assert regions.loc["Northern Europe", "margin_pct_base"] == pytest.approx(base_gb)


@pytest.mark.parametrize("use_summary", [True, False])
def test_accounts_read_known_cost_revenue_from_summary_and_lines(con, use_summary):
    january = Period(D(2024, 1, 1), D(2024, 1, 31), "Jan")
    f = Filters(period=january, comparison=BASE, currency="EUR")
    top = markets.top_accounts(con, f, use_summary=use_summary).set_index("customer_id")
    # C2 in January: O2 200/0.86 EUR (cost 60), O5 300 EUR (no cost), O7 100 EUR (cost 30).
    known = 200 / 0.86 + 100
    assert top.loc["C2", "revenue"] == pytest.approx(known + 300)
    assert top.loc["C2", "gross_margin_pct"] == pytest.approx((known - 90) / known)
    assert top.loc["C2", "margin_coverage"] == pytest.approx(known / (known + 300))
    src, params = sales.summarised(
        con,
        "items",
        "EUR",
        [(january.start, january.end)],
        base_rates=(BASE.start, BASE.end),
        use_summary=use_summary,
    )
    row = con.execute(
        f"SELECT sum(known_revenue_reported), sum(known_revenue_constant), sum(cost_eur) "
        f"FROM ({src}) WHERE country_code = 'GB'",
        params,
    ).fetchone()
    assert row == (
        pytest.approx(known),
        pytest.approx(280 * AVG_GBP_EUR),
        pytest.approx(90.0),
    )


AVG_GBP_EUR = (1 / 0.85 + 1 / 0.86) / 2


def test_pricing_baseline_models_the_lines_with_a_known_cost(con):
    scenario = pricing.Scenario(
        countries=("GB",), baseline_start=D(2024, 1, 1), baseline_end=D(2024, 1, 31)
    )
    frame = pricing.baseline(con, scenario).set_index("country_code")
    # GB January with a known cost: O2 2 x 100 GBP (cost 60) and O7 1 x 80 GBP (cost 30).
    assert frame.loc["GB", "units"] == 3
    assert frame.loc["GB", "revenue_local"] == pytest.approx(280.0)
    assert frame.loc["GB", "cost_eur"] == pytest.approx(90.0)
    assert frame.loc["GB", "margin_coverage"] == pytest.approx(280 / 520)
    assert frame.attrs["margin_coverage"] == pytest.approx((200 / 0.86 + 100) / (200 / 0.86 + 400))
