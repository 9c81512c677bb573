"""Markets metrics on the hand-made fixture (see conftest.py for every line and rate).

Current period 8–9 Jan 2024, comparison 4–7 Jan, reporting currency EUR:
    US  current  300/1.20 - 60/1.20 = 200 EUR   (240 USD)    prior 450/1.08 EUR
    GB  current  240/0.80           = 300 EUR   (240 GBP)    prior 200/0.86 EUR (Sat -> Fri rate)
    DE  current  100 EUR                                      prior 0
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from analytics import markets
from analytics.filters import Filters
from analytics.periods import Period

D = dt.date
CURRENT = Period(D(2024, 1, 8), D(2024, 1, 9), "8–9 Jan")
BASE = Period(D(2024, 1, 4), D(2024, 1, 7), "4–7 Jan")
US_PRIOR = 450 / 1.08
GB_PRIOR = 200 / 0.86


def filters(**kwargs) -> Filters:
    return Filters(**{"period": CURRENT, "comparison": BASE, "currency": "EUR"} | kwargs)


def row(frame, key):
    return frame.set_index("key").loc[key]


def test_country_growth_reported_and_at_constant_currency(fixture_con):
    card = markets.scorecard(fixture_con, filters(), "country")
    assert list(card["key"]) == ["GB", "US", "DE"]  # by revenue: 300, 200, 100
    us = row(card, "US")
    assert us["revenue"] == pytest.approx(200)
    assert us["revenue_prior"] == pytest.approx(US_PRIOR)
    assert us["growth_prior"] == pytest.approx(200 / US_PRIOR - 1)
    # 240 USD at the base period's average USD->EUR rate (publication days 4 and 5 Jan).
    cc = 240 * (1 / 1.08 + 1 / 1.10) / 2
    assert us["revenue_cc"] == pytest.approx(cc)
    assert us["growth_prior_cc"] == pytest.approx(cc / US_PRIOR - 1)
    assert us["fx_effect"] == pytest.approx((200 / US_PRIOR - 1) - (cc / US_PRIOR - 1))
    assert us["share"] == pytest.approx(200 / 600)
    assert us["orders"] == 1 and us["active_customers"] == 1
    assert us["aov"] == pytest.approx(200)
    gb = row(card, "GB")
    assert gb["growth_prior"] == pytest.approx(300 / GB_PRIOR - 1)
    assert gb["gross_margin_pct"] == pytest.approx((300 - 3 * 30) / 300)
    assert pd_isna(row(card, "DE")["growth_prior"])  # no comparison revenue: no growth


def pd_isna(value) -> bool:
    return value != value


def test_constant_basis_reports_revenue_at_base_rates(fixture_con):
    card = markets.scorecard(fixture_con, filters(basis="constant"), "country")
    gb = row(card, "GB")
    cc = 240 * (1 / 0.85 + 1 / 0.86) / 2
    assert gb["revenue"] == pytest.approx(cc)
    # Growth on the constant basis is constant-currency growth (issue #16: it showed the
    # reported 300 / GB_PRIOR - 1); the FX effect still compares reported with constant.
    assert gb["growth_prior"] == pytest.approx(cc / GB_PRIOR - 1)
    assert gb["fx_effect"] == pytest.approx((300 / GB_PRIOR - 1) - (cc / GB_PRIOR - 1))


def test_region_rollup_and_penetration(fixture_con):
    fixture_con.execute(
        "INSERT INTO market_data VALUES ('US', 2024, 330000000, 2.5e13, 1000000), "
        "('DE', 2024, 83000000, 4.0e12, 400000)"
    )
    card = markets.scorecard(fixture_con, filters(), "region")
    americas = row(card, "Americas")
    # Two days' revenue annualised against the yearly addressable market.
    assert americas["penetration"] == pytest.approx(200 / (2 / 365.25) / 1_000_000)
    assert row(card, "Western Europe")["penetration"] == pytest.approx(100 / (2 / 365.25) / 400_000)
    assert pd_isna(row(card, "Northern Europe")["penetration"])  # no estimate for GB
    assert card["share"].sum() == pytest.approx(1)


def test_global_account_rolls_up_its_subsidiaries(fixture_con):
    fixture_con.execute("INSERT INTO global_accounts VALUES ('G1', 'Globex')")
    fixture_con.execute(
        "UPDATE customers SET global_account_id = 'G1' WHERE customer_id IN ('C1', 'C2')"
    )
    accounts = markets.global_accounts(fixture_con, filters())
    assert len(accounts) == 1
    globex = accounts.iloc[0]
    assert globex["revenue"] == pytest.approx(200 + 300)
    assert globex["revenue_prior"] == pytest.approx(US_PRIOR + GB_PRIOR)
    assert globex["growth_prior"] == pytest.approx(500 / (US_PRIOR + GB_PRIOR) - 1)
    assert globex["countries"] == 2
    assert globex["country_list"] == "United Kingdom, United States"
    assert globex["top_product_line"] == "Sensors"


def test_price_index_and_discount_depth(fixture_con):
    prices = markets.price_position(fixture_con, filters(), "P1").set_index("country_code")
    us_eur = 60 * (1 / 1.20 + 1 / 1.00) / 2  # 300 USD / 5 units, at the period's average rate
    gb_eur = 80 * (1 / 0.90 + 1 / 0.80) / 2  # 240 GBP / 3 units
    mean = (us_eur + gb_eur) / 2
    assert prices.loc["US", "avg_price_local"] == pytest.approx(60)
    assert prices.loc["GB", "avg_price_reporting"] == pytest.approx(gb_eur)
    assert prices.loc["US", "price_index"] == pytest.approx(us_eur / mean * 100)
    assert prices.loc["GB", "discount_depth"] == pytest.approx(0.2)
    assert prices.loc["US", "discount_depth"] == pytest.approx(0.0)
    # Under a product-line filter (order_lines reach it through products).
    assert len(markets.price_position(fixture_con, filters(product_lines=("Sensors",)), "P1")) == 2
    assert markets.price_position(fixture_con, filters(product_lines=("Software",)), "P1").empty


def test_a_country_that_changed_currency_has_one_price_row(fixture_con):
    # GB invoiced 2 units in USD on 8 Jan, then 3 in GBP on 9 Jan (as Bulgaria moved from BGN
    # to EUR): one row, in the currency at the period end; the reporting price counts both.
    fixture_con.execute(
        "INSERT INTO order_lines VALUES ('O7', 1, DATE '2024-01-08', 'C2', 'P1', 'R1', 'GB', "
        "'direct', 'USD', 2, 90.0, 0.0, 180.0, 150.0, 30.0)"
    )
    prices = markets.price_position(fixture_con, filters(), "P1")
    assert sorted(prices["country_code"]) == ["GB", "US"]
    gb = prices.set_index("country_code").loc["GB"]
    assert gb["currency_code"] == "GBP"
    assert gb["units"] == 5
    assert gb["avg_price_local"] == pytest.approx(80)  # 240 GBP / 3 units, GBP lines only
    usd_in_eur = (1 / 1.20 + 1 / 1.00) / 2
    gbp_in_eur = (1 / 0.90 + 1 / 0.80) / 2
    assert gb["avg_price_reporting"] == pytest.approx((240 * gbp_in_eur + 180 * usd_in_eur) / 5)
    assert gb["discount_depth"] == pytest.approx(0.2)


def test_mix_shares_sum_to_one_per_market(fixture_con):
    both = markets.mix(fixture_con, filters(), "country")
    assert set(both["channel"]) == {"direct", "web"}
    mix = markets.mix_shares(both, "product_line")
    us = mix[mix["market"] == "United States"].set_index("product_line")
    assert us.loc["Sensors", "share"] == pytest.approx(250 / 200)  # 300 USD sold, 60 returned
    assert us.loc["Software", "share"] == pytest.approx(-50 / 200)
    assert mix.groupby("market")["share"].sum().tolist() == pytest.approx([1, 1, 1])


def test_top_accounts_in_a_country(fixture_con):
    top = markets.top_accounts(fixture_con, filters(countries=("US",)))
    assert list(top["customer"]) == ["Acme Inc"]
    assert top.iloc[0]["revenue"] == pytest.approx(200)
    assert top.iloc[0]["growth_prior"] == pytest.approx(200 / US_PRIOR - 1)


def test_empty_selection_gives_empty_frames(fixture_con):
    empty = filters(countries=("CH",))
    assert markets.scorecard(fixture_con, empty, "country").empty
    assert markets.global_accounts(fixture_con, empty).empty
    assert markets.top_accounts(fixture_con, empty).empty
    assert markets.price_position(fixture_con, empty, "P1").empty
    assert markets.mix_shares(markets.mix(fixture_con, empty, "region"), "channel").empty


def test_last_year_and_basis_note():
    assert markets.last_year(Period(D(2024, 2, 29), D(2024, 3, 31), "x")).start == D(2023, 2, 28)
    assert "constant currency" in markets.basis_note(filters(basis="constant"))
    assert "reported" in markets.basis_note(dataclasses.replace(filters()))


def test_market_opportunity_converts_the_market_and_keeps_countries_with_sales(fixture_con):
    fixture_con.execute("INSERT INTO market_data VALUES ('US', 2024, 330000000, 2.5e13, 1000000)")
    f = filters(currency="USD")
    card = markets.scorecard(fixture_con, f, "country")
    rate = markets.reporting_rate(fixture_con, f)
    assert rate == 1.00  # USD on 9 Jan 2024
    bubbles = markets.market_opportunity(card, rate)
    assert list(bubbles["country_code"]) == ["US"]  # GB and DE have no estimate
    assert bubbles.iloc[0]["addressable_market"] == pytest.approx(1_000_000 * 1.00)
