"""The quarterly review's figures: drivers, movers, regional scorecard, budget, attainment and
next quarter's pipeline on the hand-made fixture, and the whole review on the demo.

Fixture periods as in test_bridge.py: base 4–7 Jan 2024, current 8–9 Jan, so the bridge's
hand values (imported from there) apply.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil

import duckdb
import pandas as pd
import pytest
from test_bridge import ASP0, CC1_DE, CC1_GB, CC1_US_P1, CC1_US_P2, P0_GB, P0_US, R0_GB, R0_US, USD

from analytics import bridge, catalog, db, periods, review
from analytics.filters import Filters
from analytics.fx import RateUnavailable
from analytics.periods import Period

D = dt.date
BASE = Period(D(2024, 1, 4), D(2024, 1, 7), "base")
CURRENT = Period(D(2024, 1, 8), D(2024, 1, 9), "current")


def scope(currency="EUR", **dims) -> Filters:
    return Filters(period=CURRENT, comparison=BASE, currency=currency, **dims)


def labelled_items(con, currency="EUR"):
    return bridge.bridge_items(
        con, (BASE.start, BASE.end), (CURRENT.start, CURRENT.end), currency, None, labelled=True
    )


# --- quarters -----------------------------------------------------------------------------


def test_full_quarters_skip_partial_ones_and_newest_come_first():
    quarters = periods.full_quarters(D(2024, 2, 10), D(2024, 12, 30))
    assert [q.label for q in quarters] == ["Q3 2024", "Q2 2024"]
    assert quarters[0] == Period(D(2024, 7, 1), D(2024, 9, 30), "Q3 2024")
    assert periods.full_quarters(D(2024, 1, 1), D(2024, 3, 31))[0].label == "Q1 2024"


def test_quarter_keys_round_trip_and_bad_ones_are_explained():
    q = periods.parse_quarter_key("2025q4")
    assert (q.start, q.end, q.label) == (D(2025, 10, 1), D(2025, 12, 31), "Q4 2025")
    assert periods.quarter_key(q) == "2025Q4"
    for bad in ("2025Q5", "Q4", "last"):
        with pytest.raises(ValueError, match="2026Q3"):
            periods.parse_quarter_key(bad)


def test_base_period_per_comparison():
    q = periods.parse_quarter_key("2026Q1")
    assert review.base_period(q, "prior_quarter").label == "Q4 2025"
    assert review.base_period(q, "last_year").label == "Q1 2025"
    # A budget has no units or prices: growth and the bridge start from last year.
    assert review.base_period(q, "budget").label == "Q1 2025"
    with pytest.raises(ValueError, match="prior_quarter"):
        review.base_period(q, "forecast")


# --- drivers and movers, by hand ----------------------------------------------------------


def test_country_drivers_by_hand_and_they_add_up_to_the_bridge(fixture_con):
    items = labelled_items(fixture_con)
    frame = review.drivers(items, "country").set_index("country_code")
    us, gb, de = frame.loc["US"], frame.loc["GB"], frame.loc["DE"]
    # US: (P1, US) continues, (P2, US) is a return with no base -> new.
    assert us["volume"] == pytest.approx((4 - 10) * ASP0)
    assert us["price"] == pytest.approx(CC1_US_P1 - 5 * P0_US)
    assert us["new"] == pytest.approx(CC1_US_P2)
    assert us["fx"] == pytest.approx(200 - CC1_US_P1 - CC1_US_P2)
    assert us["mix"] == pytest.approx(5 * P0_US - R0_US - (4 - 10) * ASP0)
    assert us["change"] == pytest.approx(200 - R0_US)
    assert gb["volume"] == pytest.approx(1 * ASP0)
    assert gb["price"] == pytest.approx(CC1_GB - 3 * P0_GB)
    assert gb["fx"] == pytest.approx(300 - CC1_GB)
    assert gb["mix"] == pytest.approx(3 * P0_GB - R0_GB - ASP0)
    assert de["new"] == pytest.approx(CC1_DE)
    assert de["reason"] == "New business"  # not "Volume": its volume and mix cancel out
    assert us["reason"] == "Volume"  # 6 fewer units outweigh a price rise
    # Sorted by change, largest gain first.
    assert list(frame["change"]) == sorted(frame["change"], reverse=True)
    # Every dimension's parts add up to the bridge's effects.
    effects = bridge.bridge_from_items(items).set_index("effect")["amount"]
    for by in review.DRIVER_DIMENSIONS:
        parts = review.drivers(items, by)
        for effect in review.DRIVER_EFFECTS:
            assert parts[effect].sum() == pytest.approx(effects[effect], abs=1e-9), (by, effect)


def test_account_movers_by_hand(fixture_con):
    frame = review.account_movers(fixture_con, scope()).set_index("customer_id")
    assert set(frame.index) == {"C1", "C2", "C3"}  # C4 bought in February only
    acme = frame.loc["C1"]
    base_price = R0_US / 10
    assert acme["change"] == pytest.approx(200 - R0_US)
    assert acme["volume"] == pytest.approx((4 - 10) * base_price)
    assert acme["fx"] == pytest.approx(200 - 240 * USD)
    assert acme["price_mix"] == pytest.approx(240 * USD - R0_US - (4 - 10) * base_price)
    assert acme["reason"] == "Volume"
    brit = frame.loc["C2"]
    assert brit["volume"] == pytest.approx(P0_GB)
    assert brit["fx"] == pytest.approx(300 - CC1_GB)
    assert brit["price_mix"] == pytest.approx(CC1_GB - R0_GB - P0_GB)
    deutsche = frame.loc["C3"]
    assert (deutsche["new"], deutsche["change"], deutsche["reason"]) == (100, 100, "New business")
    for name, row in frame.iterrows():
        parts = row["volume"] + row["price_mix"] + row["new"] + row["fx"]
        assert parts == pytest.approx(row["change"]), name


def test_account_movers_top_are_picked_in_the_query(fixture_con):
    full = review.account_movers(fixture_con, scope())
    assert list(full["customer_id"]) == ["C3", "C2", "C1"]  # gains 100 and 67, Acme loses
    for n in (1, 2, 5):
        top = review.account_movers(fixture_con, scope(), top=n)
        assert len(top) == min(n, 2) + 1
        pd.testing.assert_frame_equal(review.top_movers(top, n), review.top_movers(full, n))
    # Equal changes: the lower customer_id first, in the query as in the sorted frame.
    fixture_con.execute("INSERT INTO customers VALUES ('C0', 'Zero AG', 'DE', 'web', NULL)")
    fixture_con.execute(
        "INSERT INTO order_lines SELECT * REPLACE ('O9' AS order_id, 'C0' AS customer_id) "
        "FROM order_lines WHERE customer_id = 'C3'"
    )
    full = review.account_movers(fixture_con, scope())
    assert list(full["customer_id"]) == ["C0", "C3", "C2", "C1"]
    top = review.account_movers(fixture_con, scope(), top=1)
    assert list(top["customer_id"]) == ["C0", "C1"]
    assert top.set_index("customer_id").loc["C0", "customer"] == "Zero AG"


def test_top_movers_keep_gains_then_losses():

    frame = pd.DataFrame({"name": list("abcde"), "change": [5.0, -3.0, 0.0, 9.0, -8.0]})
    assert list(review.top_movers(frame, 1)["name"]) == ["d", "e"]
    assert list(review.top_movers(frame, 5)["name"]) == ["d", "a", "e", "b"]


# --- regional scorecard, budget, attainment -----------------------------------------------


def _plan(con):
    """Budgets, reps and quotas for the fixture's current period and the quarter after it."""
    con.execute(
        "INSERT INTO reps VALUES ('R1', 'Rita One', 'Team A', 'Americas', NULL), "
        "('R2', 'Rob Two', 'Team B', 'Northern Europe', 'R1')"
    )
    con.execute(
        "INSERT INTO quotas VALUES ('R1', DATE '2024-01-08', 500), ('R2', DATE '2024-01-08', 0), "
        "('R1', DATE '2024-04-01', 3000)"
    )
    con.execute(
        "INSERT INTO budgets VALUES ('US', 'Sensors', DATE '2024-01-08', 1000), "
        "('GB', 'Sensors', DATE '2024-01-08', 400), ('DE', 'Software', DATE '2024-01-08', 50)"
    )
    # The rates the budgets were made at (finance's plan for 2024).
    con.execute(
        "INSERT INTO plan_rates VALUES (2024, NULL, 'USD', 1.05), (2024, NULL, 'GBP', 0.85)"
    )


def test_region_scorecard_by_hand_in_usd(fixture_con):
    _plan(fixture_con)
    frame = review.region_scorecard(fixture_con, scope("USD"), "budget").set_index("region")
    assert list(frame.index) == ["Northern Europe", "Americas", "Western Europe", "Total"]
    americas = frame.loc["Americas"]
    # Current: 300 - 60 USD; base: 450 USD (USD lines stay USD at any day's rate).
    assert americas["revenue"] == pytest.approx(240)
    assert americas["revenue_base"] == pytest.approx(450)
    assert americas["growth"] == pytest.approx(240 / 450 - 1)
    assert americas["growth_cc"] == pytest.approx(240 / 450 - 1)  # USD into USD: no FX
    # Costs in EUR at the day's rate: current (5 x 20 - 1 x 10) x 1.20, base 10 x 20 x 1.08.
    assert americas["margin_pct"] == pytest.approx(1 - 90 * 1.20 / 240)
    assert americas["margin_pct_base"] == pytest.approx(1 - 200 * 1.08 / 450)
    # Budget 1000 EUR at the plan rate it was made at (USD 1.05), not the quarter's rates.
    assert americas["budget"] == pytest.approx(1000 * 1.05)
    assert americas["vs_budget"] == pytest.approx(240 / 1050 - 1)
    # USD into USD at plan rates is still 240: no FX variance, all of the gap is operating.
    assert americas["revenue_plan"] == pytest.approx(240)
    assert americas["variance_operating"] == pytest.approx(240 - 1050)
    assert americas["variance_fx"] == pytest.approx(0)
    assert americas["vs_comparison"] == americas["vs_budget"]
    # R1 booked every current line: 250 - 50 + 100 + 300 EUR against a 500 EUR quota; R2's
    # zero quota is left out rather than divided by.
    assert americas["attainment"] == pytest.approx(600 / 500)
    assert pd.isna(frame.loc["Northern Europe", "attainment"])
    gb_usd = 240 / 0.80 * 1.00  # 240 GBP on 9 Jan, in USD
    total = frame.loc["Total"]
    assert total["revenue"] == pytest.approx(240 + gb_usd + 100 * 1.00)
    assert total["budget"] == pytest.approx(1450 * 1.05)
    # 240 GBP at plan: / 0.85 * 1.05; 100 EUR at plan: * 1.05.
    at_plan = 240 + 240 / 0.85 * 1.05 + 100 * 1.05
    assert total["revenue_plan"] == pytest.approx(at_plan)
    assert total["variance_operating"] == pytest.approx(at_plan - 1450 * 1.05)
    assert total["variance_fx"] == pytest.approx(total["revenue"] - at_plan)
    assert pd.isna(frame.loc["Western Europe", "growth"])  # nothing sold there in the base


def test_region_filter_narrows_budget_and_quota(fixture_con):
    _plan(fixture_con)
    frame = review.region_scorecard(
        fixture_con, scope("EUR", regions=("Northern Europe",)), "prior_quarter"
    ).set_index("region")
    assert list(frame.index) == ["Northern Europe", "Total"]
    assert frame.loc["Total", "budget"] == pytest.approx(400)
    assert frame.loc["Total", "revenue"] == pytest.approx(300)
    assert frame.loc["Total", "vs_comparison"] == pytest.approx(300 / R0_GB - 1)
    assert pd.isna(frame.loc["Total", "attainment"])  # R2's quota is zero


@pytest.mark.parametrize(
    "dims, words",
    [
        ({"countries": ("US",)}, "countries"),
        ({"product_lines": ("Sensors",)}, "product lines"),
        ({"channels": ("direct",), "regions": ("Americas",)}, "channels"),
    ],
)
def test_quota_not_set_against_revenue_it_does_not_cover(fixture_con, dims, words):
    # A quota is per rep: under a country, product-line or channel filter it stays that of
    # every rep in the regions, so the review says so and divides nothing by it.
    _plan(fixture_con)
    filters = scope("EUR", **dims)
    frame = review.region_scorecard(fixture_con, filters, "prior_quarter").set_index("region")
    assert frame["attainment"].isna().all()
    assert frame.loc["Total", "quota_eur"] == pytest.approx(500)  # R1's, unfiltered
    sentence = review.quota_scope(filters)
    assert words in sentence and "no attainment" in sentence
    whose = "Americas" if "regions" in dims else "company-wide"
    assert whose in sentence
    assert review.quota_scope(scope("EUR", regions=("Americas",))) is None


def test_country_filtered_pipeline_has_no_share_of_quota(fixture_con):
    _pipeline(fixture_con)
    whole = review.next_quarter_pipeline(fixture_con, scope("EUR"))
    assert whole["pipeline_share"] == pytest.approx(2500 / 3000)
    only_gb = review.next_quarter_pipeline(fixture_con, scope("EUR", countries=("GB",)))
    assert only_gb["quota"] == pytest.approx(3000)  # stated, not divided by
    assert only_gb["pipeline_share"] is None and only_gb["coverage"] is None


# --- next quarter's pipeline --------------------------------------------------------------


def _pipeline(con):
    _plan(con)
    opportunities = [
        # id, currency, amount, category, close date
        ("OP1", "US", "USD", 1200.0, "commit", D(2024, 5, 1)),
        ("OP2", "GB", "GBP", 900.0, "best case", D(2024, 4, 15)),
        ("OP3", "DE", "EUR", 500.0, "pipeline", D(2024, 6, 30)),
        ("OP4", "US", "USD", 1000.0, "commit", D(2024, 7, 1)),  # closes after Q2
        ("OP5", "US", "USD", 800.0, "omitted", D(2024, 5, 2)),
    ]
    con.executemany(
        "INSERT INTO opportunities VALUES (?, 'C1', 'R1', ?, ?, ?, 'Proposal', ?, "
        "DATE '2023-12-01', ?, 'open')",
        opportunities,
    )
    rows = [
        (D(2024, 1, 8), o, "Proposal", a, close, cat) for o, _, _, a, cat, close in opportunities
    ]
    # A later snapshot, after the period, must not be read.
    rows.append((D(2024, 1, 15), "OP1", "Negotiation", 99999.0, D(2024, 5, 1), "commit"))
    con.executemany("INSERT INTO opportunity_snapshots VALUES (?, ?, ?, ?, ?, ?)", rows)


def test_next_quarter_pipeline_by_hand(fixture_con):
    _pipeline(fixture_con)
    result = review.next_quarter_pipeline(fixture_con, scope("EUR"))
    assert result["quarter"] == "Q2 2024"
    assert result["snapshot_date"] == D(2024, 1, 8)
    # Snapshot-day rates: USD 1.20, GBP 0.90.
    assert result["commit"] == pytest.approx(1200 / 1.20)
    assert result["best_case"] == pytest.approx(1000 + 900 / 0.90)
    assert result["pipeline"] == pytest.approx(2000 + 500)
    assert result["quota"] == pytest.approx(3000)
    assert result["deals"] == 3
    in_usd = review.next_quarter_pipeline(fixture_con, scope("USD"))
    assert in_usd["pipeline"] == pytest.approx(2500 * 1.20)
    assert in_usd["quota"] == pytest.approx(3000 * 1.20)
    only_gb = review.next_quarter_pipeline(fixture_con, scope("EUR", countries=("GB",)))
    assert (only_gb["commit"], only_gb["best_case"]) == (0.0, pytest.approx(1000))


def test_no_snapshot_before_the_quarter_end_means_no_pipeline(fixture_con):
    early = dataclasses.replace(scope(), period=Period(D(2023, 1, 1), D(2023, 3, 31), "Q1 2023"))
    result = review.next_quarter_pipeline(fixture_con, early)
    assert result["snapshot_date"] is None and result["pipeline"] is None


# --- the whole review on the demo ---------------------------------------------------------


@pytest.mark.parametrize(
    "vs, currency, dims",
    [
        ("prior_quarter", "EUR", {}),
        ("last_year", "USD", {"regions": ("Asia Pacific", "Americas")}),
        ("budget", "GBP", {"product_lines": ("Sensors",)}),
    ],
)
def test_review_on_the_demo_reconciles(demo_db_path, vs, currency, dims):
    with duckdb.connect(str(demo_db_path), read_only=True) as con:
        last = con.execute("SELECT max(order_date) FROM order_lines").fetchone()[0]
        current = periods.full_quarters(D(2021, 1, 1), last)[0]
        filters = Filters(period=current, comparison=current, currency=currency, **dims)
        result = review.build(con, current, vs, filters)
        base = review.base_period(current, vs)
        assert result.base == base and result.quarter == current
        independent = """
            SELECT sum(o.net_amount_eur * f.units_per_eur) FROM order_lines o
            JOIN fx_daily f ON f.rate_date = o.order_date AND f.currency_code = ?
            JOIN products p USING (product_id) JOIN countries c USING (country_code)
            WHERE o.order_date BETWEEN ? AND ?
              AND (len(?::VARCHAR[]) = 0 OR list_contains(?::VARCHAR[], c.region))
              AND (len(?::VARCHAR[]) = 0 OR list_contains(?::VARCHAR[], p.product_line))
        """
        regions, lines = list(dims.get("regions", ())), list(dims.get("product_lines", ()))
        for period, key in ((current, "revenue"), (base, "revenue_base")):
            expected = con.execute(
                independent, [currency, period.start, period.end, regions, regions, lines, lines]
            ).fetchone()[0]
            assert result.headline[key] == pytest.approx(expected, rel=1e-9)
        total = result.regions.set_index("region").loc[review.TOTAL]
        assert total["revenue"] == pytest.approx(result.headline["revenue"], rel=1e-9)
        assert result.regions["revenue"].iloc[:-1].sum() == pytest.approx(total["revenue"])
        amounts = result.bridge.set_index("effect")["amount"]
        assert amounts["base"] + amounts[list(review.DRIVER_EFFECTS)].sum() == pytest.approx(
            amounts["current"], rel=1e-9
        )
        every = review.account_movers(con, result.filters)
        assert every["change"].sum() == pytest.approx(
            amounts["current"] - amounts["base"], rel=1e-6
        )
        # The review holds only the accounts it shows, picked in the query.
        assert len(result.account_movers) <= 2 * review.MOVERS_SHOWN < len(every)
        pd.testing.assert_frame_equal(
            review.top_movers(result.account_movers), review.top_movers(every), rtol=1e-12
        )
        assert result.headline["fx_amount"] == pytest.approx(amounts["fx"])
        if vs == "budget":
            assert result.vs_label == f"budget {current.label}"
            assert result.headline["vs_budget"] == pytest.approx(
                result.headline["revenue"] / result.headline["budget"] - 1
            )
        assert current.label in result.stamp() and currency in result.stamp()


def test_review_takes_its_stamp_from_the_catalog_the_page_holds(demo_db_path):
    with duckdb.connect(str(demo_db_path), read_only=True) as con:
        last = con.execute("SELECT max(order_date) FROM order_lines").fetchone()[0]
        current = periods.full_quarters(D(2021, 1, 1), last)[0]
        filters = Filters(period=current, comparison=current, currency="USD")
        held = catalog.load(con)
        seen = []
        real = db._run

        def counting(cur, sql, *args, **kwargs):
            seen.append(sql)
            return real(cur, sql, *args, **kwargs)

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(db, "_run", counting)
            alone = review.build(con, current, "prior_quarter", filters)
            read_alone = len(seen)
            seen.clear()
            given = review.build(con, current, "prior_quarter", filters, held)
        # The data date, rate status and data source: four queries fewer, the same stamp.
        assert len(seen) == read_alone - 4
        assert given.stamp() == alone.stamp()
        assert (given.data_date, given.rates, given.data_source) == (
            held.last_date,
            held.rates.label,
            held.data_source,
        )


def test_review_without_a_base_rate_for_a_currency_sold_says_which(demo_db_path, tmp_path):
    # The scorecard leaves this check to the bridge items, which make it for both.
    path = tmp_path / "no_gbp_base_rates.duckdb"
    shutil.copy(demo_db_path, path)
    with duckdb.connect(str(path)) as con:
        last = con.execute("SELECT max(order_date) FROM order_lines").fetchone()[0]
        current = periods.full_quarters(D(2021, 1, 1), last)[0]
        base = review.base_period(current, "prior_quarter")
        con.execute(
            "DELETE FROM fx_daily WHERE currency_code = 'GBP' AND rate_date BETWEEN ? AND ?",
            [base.start, base.end],
        )
        filters = Filters(period=current, comparison=current)
        with pytest.raises(RateUnavailable, match="No ECB rates for GBP into EUR"):
            review.build(con, current, "prior_quarter", filters)


def test_review_without_a_base_says_so(demo_db_path):
    with duckdb.connect(str(demo_db_path), read_only=True) as con:
        first = con.execute("SELECT min(order_date) FROM order_lines").fetchone()[0]
        earliest = periods.quarter(first)
        filters = Filters(period=earliest, comparison=earliest)
        with pytest.raises(ValueError, match="Nothing was sold"):
            review.build(con, earliest, "prior_quarter", filters)
