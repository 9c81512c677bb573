"""Overview figures on the hand-made fixture (see conftest.py for the data and rates)."""

from __future__ import annotations

import datetime as dt

import pytest

from analytics import overview, sales
from analytics.filters import Filters
from analytics.fx import RateUnavailable
from analytics.periods import Period

D = dt.date
CURRENT = Period(D(2024, 1, 8), D(2024, 1, 9), "8–9 Jan")
BASE = Period(D(2024, 1, 4), D(2024, 1, 7), "4–7 Jan")

# Reported USD, each line at its own day's rate (EUR amount x USD rate that day).
CURRENT_USD = 300 - 60 + 100 * 1.00 + (240 / 0.80) * 1.00
BASE_USD = 450 + (200 / 0.86) * 1.10
# Constant currency: current local revenue at the base period's average rates into USD,
# the mean over its publication days (4 and 5 Jan) of USD-per-EUR / c-per-EUR.
AVG_GBP_USD = (1.08 / 0.85 + 1.10 / 0.86) / 2
AVG_EUR_USD = (1.08 + 1.10) / 2
CURRENT_CC_USD = (300 - 60) * 1.0 + 100 * AVG_EUR_USD + 240 * AVG_GBP_USD
# Costs in EUR: 8 Jan (5 x 20 - 1 x 10) at 1.20, 9 Jan (4 x 10 + 3 x 30) at 1.00.
CURRENT_COST_USD = 90 * 1.20 + 130 * 1.00


def filters(**kwargs) -> Filters:
    return Filters(**{"period": CURRENT, "comparison": BASE, "currency": "USD"} | kwargs)


def kpi(frame, name):
    return frame.set_index("metric").loc[name]


def test_average_rates_by_hand(fixture_con):
    rates = sales.average_rates(fixture_con, "USD", BASE)
    assert rates["GBP"] == pytest.approx(AVG_GBP_USD, rel=1e-12)
    assert rates["EUR"] == pytest.approx(AVG_EUR_USD, rel=1e-12)
    assert rates["USD"] == pytest.approx(1.0)
    assert rates["CHF"] == pytest.approx((1.08 / 0.94 + 1.10 / 0.95) / 2, rel=1e-12)


def test_reported_kpis_in_usd(fixture_con):
    frame = overview.kpis(fixture_con, filters())
    revenue = kpi(frame, "net_revenue")
    assert revenue.current == pytest.approx(CURRENT_USD)
    assert revenue.comparison == pytest.approx(BASE_USD)
    assert revenue.change == pytest.approx(CURRENT_USD / BASE_USD - 1)
    margin = kpi(frame, "gross_margin_pct")
    assert margin.current == pytest.approx((CURRENT_USD - CURRENT_COST_USD) / CURRENT_USD)
    base_cost_usd = 10 * 20 * 1.08 + 2 * 30 * 1.10
    assert margin.comparison == pytest.approx((BASE_USD - base_cost_usd) / BASE_USD)
    assert margin.change == pytest.approx(margin.current - margin.comparison)
    assert (kpi(frame, "units").current, kpi(frame, "units").comparison) == (11, 12)
    assert (kpi(frame, "orders").current, kpi(frame, "orders").comparison) == (3, 2)
    customers = kpi(frame, "active_customers")
    assert (customers.current, customers.comparison) == (3, 2)


def test_constant_currency_kpis_in_usd(fixture_con):
    frame = overview.kpis(fixture_con, filters(basis="constant"))
    revenue = kpi(frame, "net_revenue")
    assert revenue.current == pytest.approx(CURRENT_CC_USD, rel=1e-12)
    assert revenue.comparison == pytest.approx(BASE_USD)
    assert revenue.change == pytest.approx(CURRENT_CC_USD / BASE_USD - 1)
    cost_cc = 220 * AVG_EUR_USD
    margin = kpi(frame, "gross_margin_pct")
    assert margin.current == pytest.approx((CURRENT_CC_USD - cost_cc) / CURRENT_CC_USD)


def test_kpis_in_eur_are_the_stored_eur_amounts(fixture_con):
    frame = overview.kpis(fixture_con, filters(currency="EUR"))
    assert kpi(frame, "net_revenue").current == pytest.approx(250 - 50 + 100 + 300)
    assert kpi(frame, "net_revenue").comparison == pytest.approx(450 / 1.08 + 200 / 0.86)


def test_product_line_filter_counts_each_order_once(fixture_con):
    frame = overview.kpis(fixture_con, filters(product_lines=("Software",)))
    # Software: O3/2 (-60 USD, a return) and O4 (100 EUR at 1.00) in the current period.
    assert kpi(frame, "net_revenue").current == pytest.approx(-60 + 100)
    assert kpi(frame, "orders").current == 2  # O3 holds Sensors and Software lines
    assert kpi(frame, "active_customers").current == 2
    assert kpi(frame, "orders").comparison == 0
    assert kpi(frame, "net_revenue").change is None


def test_two_product_lines_count_an_order_holding_both_once(fixture_con):
    """The fixture sells Sensors and Software only: both chosen is every order, O3 (one line
    of each) once, as with no filter."""
    both = overview.kpis(fixture_con, filters(product_lines=("Sensors", "Software")))
    unfiltered = overview.kpis(fixture_con, filters())
    assert kpi(both, "orders").current == kpi(unfiltered, "orders").current > 0
    assert kpi(both, "orders").comparison == kpi(unfiltered, "orders").comparison
    assert kpi(both, "net_revenue").current == pytest.approx(kpi(unfiltered, "net_revenue").current)


def test_region_and_channel_filters(fixture_con):
    frame = overview.kpis(fixture_con, filters(regions=("Northern Europe",)))
    assert kpi(frame, "net_revenue").current == pytest.approx(300)
    assert kpi(frame, "net_revenue").comparison == pytest.approx(200 / 0.86 * 1.10)
    frame = overview.kpis(fixture_con, filters(channels=("web",), countries=("DE",)))
    assert kpi(frame, "net_revenue").current == pytest.approx(100)
    assert kpi(frame, "orders").current == 1


def test_monthly_revenue_by_region_in_gbp(fixture_con):
    feb = Period(D(2024, 2, 1), D(2024, 2, 1), "1 Feb")
    f = Filters(period=feb, comparison=Period(D(2024, 1, 1), D(2024, 1, 31), "Jan"), currency="GBP")
    frame = overview.monthly_revenue_by_region(fixture_con, f)
    got = {(r.month.date(), r.region): r.revenue for r in frame.itertuples()}
    assert got == pytest.approx(
        {
            (D(2024, 1, 1), "Americas"): 450 / 1.08 * 0.85 + (250 - 50) * 0.90,
            (D(2024, 1, 1), "Northern Europe"): 200 + 240,
            (D(2024, 1, 1), "Western Europe"): 100 * 0.80,
            (D(2024, 2, 1), "Americas"): 109 / 1.09 * 0.855,
        }
    )


def test_revenue_by_country_growth_and_share(fixture_con):
    frame = overview.revenue_by_country(fixture_con, filters()).set_index("country_code")
    assert list(frame.index) == ["GB", "US", "DE"]  # sorted by revenue
    assert frame.loc["US", "revenue"] == pytest.approx(240)
    assert frame.loc["US", "growth"] == pytest.approx(240 / 450 - 1)
    assert frame.loc["GB", "share"] == pytest.approx(300 / CURRENT_USD)
    assert frame.loc["DE", "revenue_prior"] == 0
    assert frame.loc["DE", "growth"] != frame.loc["DE", "growth"]  # NaN: no base to grow from
    assert frame.loc["GB", "country"] == "United Kingdom"


def test_missing_reporting_rate_is_a_clear_error(fixture_con):
    overview.check_rates(fixture_con, filters(currency="CHF"))  # CHF covers 4-15 Jan
    to_february = Period(D(2024, 1, 8), D(2024, 2, 1), "8 Jan – 1 Feb")
    with pytest.raises(RateUnavailable, match=r"CHF on 01 Feb 2024"):
        overview.check_rates(fixture_con, filters(currency="CHF", period=to_february))


def test_missing_constant_rate_names_the_currency(fixture_con):
    # No publication day in the base period: nothing to average.
    weekend = Period(D(2024, 1, 6), D(2024, 1, 7), "weekend")
    f = Filters(period=CURRENT, comparison=weekend, currency="USD", basis="constant")
    with pytest.raises(RateUnavailable, match="EUR, GBP, USD"):
        overview.check_rates(fixture_con, f)


def test_days_without_a_rate_but_without_sales_are_no_error(fixture_con):
    # CHF's last rate (5 Jan) carries to 15 Jan; 16-31 Jan have no CHF rate and no sales,
    # so only the span reaching 1 Feb (a day with a sale) needs a rate it lacks.
    sales.check_reporting_currency(fixture_con, "CHF", D(2024, 1, 4), D(2024, 1, 15))
    sales.check_reporting_currency(fixture_con, "CHF", D(2024, 1, 8), D(2024, 1, 31))
    with pytest.raises(RateUnavailable, match=r"CHF on 01 Feb 2024"):
        sales.check_reporting_currency(fixture_con, "CHF", D(2024, 1, 16), D(2024, 2, 1))


def test_figures_in_one_statement_equal_the_separate_queries(fixture_con):
    f = filters()
    page = overview.figures(fixture_con, f)
    totals = overview.sales_by(fixture_con, f).iloc[0]
    by_kpi = page["kpis"].set_index("metric")
    assert by_kpi.loc["net_revenue", "current"] == pytest.approx(CURRENT_USD, rel=1e-12)
    assert by_kpi.loc["net_revenue", "comparison"] == pytest.approx(BASE_USD, rel=1e-12)
    assert by_kpi.loc["units", "current"] == totals.units == 5 - 1 + 4 + 3
    assert (by_kpi.loc["orders", "current"], by_kpi.loc["orders", "comparison"]) == (3, 2)
    assert tuple(by_kpi.loc["active_customers", ["current", "comparison"]]) == (3, 2)
    assert overview.order_counts(fixture_con, f) == (3, 2)
    assert overview.active_customers(fixture_con, f) == (3, 2)
    countries = page["countries"].set_index("country_code")
    assert countries["revenue"].sum() == pytest.approx(CURRENT_USD, rel=1e-12)
    assert countries.loc["DE", "revenue"] == pytest.approx(100.0, rel=1e-12)
    assert list(page["countries"]["revenue"]) == sorted(countries["revenue"], reverse=True)


def test_figures_without_sales_are_zero_and_empty(fixture_con):
    empty = Period(D(2023, 1, 1), D(2023, 1, 31), "Jan 2023")
    page = overview.figures(fixture_con, filters(period=empty, comparison=empty))
    assert page["countries"].empty
    by_kpi = page["kpis"].set_index("metric")
    assert list(by_kpi.loc[["net_revenue", "units", "orders"], "current"]) == [0, 0, 0]
    assert by_kpi.loc["active_customers", "comparison"] == 0


def test_figures_with_overlapping_periods_count_the_shared_day_in_both(fixture_con):
    """8 Jan lies in both periods: its lines (O3, 300 - 60 USD, C1) count in each, by hand."""
    f = filters(comparison=Period(D(2024, 1, 4), D(2024, 1, 8), "4–8 Jan"))
    page = overview.figures(fixture_con, f)
    by_kpi = page["kpis"].set_index("metric")
    assert by_kpi.loc["net_revenue", "current"] == pytest.approx(CURRENT_USD, rel=1e-12)
    assert by_kpi.loc["net_revenue", "comparison"] == pytest.approx(BASE_USD + 240, rel=1e-12)
    assert tuple(by_kpi.loc["units", ["current", "comparison"]]) == (11, 10 + 2 + 5 - 1)
    assert tuple(by_kpi.loc["orders", ["current", "comparison"]]) == (3, 3)  # O3 in both
    assert tuple(by_kpi.loc["active_customers", ["current", "comparison"]]) == (3, 2)
    us = page["countries"].set_index("country_code").loc["US"]
    assert us["revenue"] == pytest.approx(240, rel=1e-12)
    assert us["revenue_prior"] == pytest.approx(450 + 240, rel=1e-12)
    assert us["growth"] == pytest.approx(240 / 690 - 1, rel=1e-12)


def test_figures_name_and_order_the_countries(fixture_con):
    page = overview.figures(fixture_con, filters())
    countries = page["countries"]
    # Current revenue in USD: GB 300, US 240, DE 100 (CH sold nothing in either period).
    assert list(countries["country_code"]) == ["GB", "US", "DE"]
    assert list(countries["country"]) == ["United Kingdom", "United States", "Germany"]
    assert list(countries["iso3"]) == ["GBR", "USA", "DEU"]
    assert list(countries["region"]) == ["Northern Europe", "Americas", "Western Europe"]
    assert list(countries["share"]) == pytest.approx(
        [300 / CURRENT_USD, 240 / CURRENT_USD, 100 / CURRENT_USD], rel=1e-12
    )
    assert countries["units"].dtype == "int64" and list(countries["units"]) == [3, 4, 4]
