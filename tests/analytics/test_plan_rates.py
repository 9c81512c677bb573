"""Plan rates: stored per year (or quarter), imported like any kind, set in the demo, and
the figures at plan rates worked out by hand on the tiny fixture (tests/analytics/conftest.py).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from analytics import bridge, fx, importer, periods, plan_rates, review, rollups, sales
from analytics.errors import UserError
from analytics.filters import Filters
from analytics.periods import Period

PLAN_2024 = (
    b"year,currency,units_per_eur,quarter\n2024,USD,1.10,\n2024,GBP,0.85,\n2024,USD,1.05,1\n"
)


def load_plan(con, data: bytes = PLAN_2024, name: str = "plan.csv") -> importer.Report:
    return importer.import_file(con, "plan_rates", data, name)


def test_a_quarters_own_rate_wins_over_the_years_and_eur_is_one(fixture_con):
    report = load_plan(fixture_con)
    assert report.status == "loaded", report.rejected
    assert plan_rates.rates_for(fixture_con, 2024) == {"EUR": 1.0, "USD": 1.10, "GBP": 0.85}
    assert plan_rates.rates_for(fixture_con, 2024, 1) == {"EUR": 1.0, "USD": 1.05, "GBP": 0.85}
    assert plan_rates.rates_for(fixture_con, 2024, 2) == {"EUR": 1.0, "USD": 1.10, "GBP": 0.85}
    assert plan_rates.rates_for(fixture_con, 2025) == {"EUR": 1.0}


def test_a_missing_plan_rate_names_the_currencies_the_year_and_the_fix(fixture_con):
    load_plan(fixture_con, b"year,currency,units_per_eur\n2024,USD,1.10\n")
    needed = "SELECT 2024 AS year, 1 AS quarter, currency_code FROM (VALUES ('USD'), ('GBP')) t(currency_code)"
    with pytest.raises(plan_rates.PlanRateMissing) as caught:
        plan_rates.check(fixture_con, needed, {}, "CHF")
    message = str(caught.value)
    assert isinstance(caught.value, UserError)
    assert "CHF, GBP" in message and "2024" in message
    assert "python -m analytics import plan_rates FILE" in message
    plan_rates.check(
        fixture_con, "SELECT 2024 AS year, 3 AS quarter, 'USD' AS currency_code", {}, "EUR"
    )


def test_the_import_rejects_each_bad_row_with_its_line_column_and_reason(fixture_con):
    data = (
        b"year,currency,units_per_eur,quarter\n"
        b"2024,USD,1.10,\n"  # line 2: loaded
        b"2024,EUR,1.2,\n"  # 3: EUR is 1
        b"2024,USD,1.05,5\n"  # 4: no fifth quarter
        b"2024,GBP,0.40,\n"  # 5: 0.87 was 2023's average: more than 2x away
        b"2024,USD,1.12,\n"  # 6: the same key as line 2
        b"2024,US$,1.1,\n"  # 7: not a currency code
        b"1800,GBP,0.85,\n"  # 8: out of the years a plan can have
        b"2024,CHF,0.95,2\n"  # 9: loaded (no CHF history before 2024 to compare with)
    )
    report = load_plan(fixture_con, data)
    reasons = {(r["line"], r["column"]): r["reason"] for r in report.rejected}
    assert report.rows_read == 8 and report.rows_loaded == 2 and report.rows_rejected == 6
    assert reasons[(3, "units_per_eur")] == "EUR's plan rate is 1 (amounts are converted per EUR)"
    assert reasons[(4, "quarter")].startswith("a quarter is 1 to 4")
    assert "average ECB rate in 2023 (0.87 per EUR)" in reasons[(5, "units_per_eur")]
    assert (
        "the same year / quarter / currency is on line 2"
        in reasons[(6, "year / quarter / currency")]
    )
    assert reasons[(7, "currency")].startswith("unknown currency")
    assert reasons[(8, "year")] == "a year is 1900 to 2100"
    assert plan_rates.stored(fixture_con).to_dict("records") == [
        {"year": 2024, "quarter": None, "currency_code": "USD", "units_per_eur": 1.10},
        {"year": 2024, "quarter": 2, "currency_code": "CHF", "units_per_eur": 0.95},
    ]


def test_reimporting_changes_nothing_and_a_new_rate_updates_the_stored_one(fixture_con):
    assert load_plan(fixture_con).status == "loaded"
    again = load_plan(fixture_con)
    assert (again.status, again.unchanged) == ("unchanged", 3)
    changed = load_plan(fixture_con, b"year,currency,units_per_eur\n2024,USD,1.08\n", "v2.csv")
    assert (changed.status, changed.updated) == ("loaded", 1)
    # The year's rate replaced; the first quarter's own rate kept.
    assert plan_rates.rates_for(fixture_con, 2024)["USD"] == 1.08
    assert plan_rates.rates_for(fixture_con, 2024, 1)["USD"] == 1.05
    assert len(plan_rates.stored(fixture_con)) == 3
    log = fixture_con.execute(
        "SELECT kind, file_name, rows_loaded, status FROM import_log ORDER BY started_at, file_name"
    ).fetchall()
    assert ("plan_rates", "v2.csv", 1, "loaded") in log and len(log) == 3


def test_the_demo_plans_each_year_at_the_prior_years_average_ecb_rate(demo_db_path):
    with duckdb.connect(str(demo_db_path), read_only=True) as con:
        ecb = con.execute(
            "SELECT year(rate_date), currency_code, units_per_eur FROM fx_rates"
        ).fetchall()
        budget_years = {
            y for (y,) in con.execute("SELECT DISTINCT year(quarter_start) FROM budgets").fetchall()
        }
        invoiced = con.execute(
            "SELECT DISTINCT year(order_date), currency_code FROM order_lines"
        ).fetchall()
        for year in sorted(budget_years):
            plan = plan_rates.rates_for(con, year)
            sold = {c for y, c in invoiced if y == year}
            assert sold <= set(plan), (year, sold - set(plan))
            for currency in ("USD", "JPY", "GBP"):
                prior = [r for y, c, r in ecb if y == year - 1 and c == currency]
                assert plan[currency] == pytest.approx(sum(prior) / len(prior), abs=5e-5)


# --- figures at plan rates, by hand ----------------------------------------------------------

JAN = Period(dt.date(2024, 1, 8), dt.date(2024, 1, 9), "8-9 Jan 2024")


def _plan_2024(con, quarter_usd: float | None = None) -> None:
    con.execute(
        "INSERT INTO plan_rates VALUES (2024, NULL, 'USD', 1.05), (2024, NULL, 'GBP', 0.85)"
    )
    if quarter_usd is not None:
        con.execute("INSERT INTO plan_rates VALUES (2024, 1, 'USD', ?)", [quarter_usd])


def _at_plan(con, currency: str) -> tuple[float, float, float]:
    filters = Filters(period=JAN, comparison=JAN, currency=currency, basis="plan")
    sales.check_rates(con, filters, JAN.start, JAN.end)
    src, params = sales.source(filters, JAN.start, JAN.end)
    return con.execute(
        f"SELECT sum(revenue_plan), sum(cost_plan), sum(revenue_reported) FROM ({src})", params
    ).fetchone()


def test_revenue_at_plan_rates_by_hand(fixture_con):
    _plan_2024(fixture_con)
    # 8-9 Jan: 300 - 60 USD, 100 EUR, 240 GBP; costs (5 x 20 - 10 + 4 x 10 + 3 x 30) EUR.
    revenue, cost, _ = _at_plan(fixture_con, "USD")
    assert revenue == pytest.approx(300 - 60 + 100 * 1.05 + 240 / 0.85 * 1.05, rel=1e-12)
    assert cost == pytest.approx(220 * 1.05, rel=1e-12)
    revenue_eur, cost_eur, _ = _at_plan(fixture_con, "EUR")
    assert revenue_eur == pytest.approx(240 / 1.05 + 100 + 240 / 0.85, rel=1e-12)
    assert cost_eur == pytest.approx(220, rel=1e-12)


def test_a_quarters_own_plan_rate_values_that_quarter(fixture_con):
    _plan_2024(fixture_con, quarter_usd=1.10)
    revenue, _, _ = _at_plan(fixture_con, "USD")
    assert revenue == pytest.approx(240 + 100 * 1.10 + 240 / 0.85 * 1.10, rel=1e-12)


def test_the_plan_basis_names_a_missing_plan_rate(fixture_con):
    fixture_con.execute("INSERT INTO plan_rates VALUES (2024, NULL, 'USD', 1.05)")
    filters = Filters(period=JAN, comparison=JAN, currency="USD", basis="plan")
    with pytest.raises(plan_rates.PlanRateMissing, match=r"No plan rate for GBP in 2024"):
        sales.check_rates(fixture_con, filters, JAN.start, JAN.end)


# Last year's first quarter, for the budget's prices: on Thu 5 Jan 2023 (USD 1.06, GBP 0.88)
# 4 x 100 USD of P1 (Sensors) in the US and 2 x 110 GBP of P1 in the UK.
LAST_YEAR = [
    ("L1", 1, dt.date(2023, 1, 5), "C1", "P1", "US", "direct", "USD", 4, 100.0, 0.0, 400 / 1.06),
    ("L2", 1, dt.date(2023, 1, 5), "C2", "P1", "GB", "direct", "GBP", 2, 110.0, 0.0, 220 / 0.88),
]


def _budget_store(con) -> None:
    fx.insert_rates(
        con, [(dt.date(2023, 1, 5), "USD", 1.06), (dt.date(2023, 1, 5), "GBP", 0.88)], "t"
    )
    fx.rebuild_fx_daily(con)
    con.executemany(
        "INSERT INTO order_lines VALUES (?, ?, ?, ?, ?, 'R1', ?, ?, ?, ?, ?, ?, ?, ?, 20.0)",
        [
            (o, n, d, c, p, k, ch, cur, q, pr, dc, q * pr * (1 - dc), eur)
            for o, n, d, c, p, k, ch, cur, q, pr, dc, eur in LAST_YEAR
        ],
    )
    rollups.rebuild_sales_rollups(con)
    con.execute(
        "INSERT INTO budgets VALUES ('US', 'Sensors', DATE '2024-01-01', 1000), "
        "('GB', 'Sensors', DATE '2024-01-01', 400), ('DE', 'Software', DATE '2024-01-01', 50)"
    )
    _plan_2024(con)


def test_the_budget_bridge_by_hand(fixture_con):
    _budget_store(fixture_con)
    q1 = periods.quarter(dt.date(2024, 1, 1))
    effects = bridge.budget_bridge(fixture_con, q1, "EUR")
    got = dict(zip(effects["effect"], effects["amount"], strict=True))
    # Q1 2024 at plan rates (EUR: / plan): US Sensors 450 + 300 USD (15 units), US Software
    # -60 + 109 USD (0 units), UK Sensors 200 + 240 GBP (5 units), DE Software 100 EUR (4).
    a_us, a_us_sw, a_gb, a_de = 750 / 1.05, 49 / 1.05, 440 / 0.85, 100.0
    reported = 450 / 1.08 + 200 / 0.86 + 300 / 1.20 - 60 / 1.20 + 100 + 240 / 0.80 + 109 / 1.09
    # Budget prices: last year's revenue at 2024 plan rates per unit; DE has none.
    p_us, p_gb = 100 / 1.05, 110 / 0.85
    q_us, q_gb = 1000 / p_us, 400 / p_gb
    asp = 1400 / (q_us + q_gb)
    units = 15 + 0 + 5 + 4
    assert got["base"] == pytest.approx(1450)
    assert got["volume"] == pytest.approx((units - q_us - q_gb) * asp)
    assert got["mix"] == pytest.approx(15 * p_us + 5 * p_gb - units * asp)
    assert got["price"] == pytest.approx((a_us - 15 * p_us) + (a_gb - 5 * p_gb))
    # Cells without a budget price (DE Software) or net units now (US Software): their
    # actual at plan rates less their budget.
    assert got["new"] == pytest.approx(a_us_sw + a_de - 50)
    assert got["fx"] == pytest.approx(reported - (a_us + a_us_sw + a_gb + a_de))
    assert got["current"] == pytest.approx(reported)
    steps = sum(got[e] for e in ("base", "volume", "mix", "price", "new", "fx"))
    assert steps == pytest.approx(got["current"], rel=1e-12)


def test_a_channel_has_no_budget_and_no_vs_budget_figure(demo_db_path):
    """Before: the web channel's revenue against the whole company's budget (-98.6 %)."""
    q = periods.parse_quarter_key("2026Q3")
    with duckdb.connect(str(demo_db_path), read_only=True) as con:
        data = review.build(con, q, "budget", Filters(period=q, comparison=q, channels=("web",)))
    h = data.headline
    assert h["budget"] is None and h["vs_budget"] is None and h["variance_operating"] is None
    assert "not per channel" in h["budget_note"]
    assert data.budget_bridge is None
    assert data.regions["budget"].isna().all()
    assert review.figures(data)["comparison_revenue"] is None


@pytest.mark.parametrize("quarter_key", ["2025Q1", "2025Q4", "2026Q2", "2026Q3"])
@pytest.mark.parametrize("currency", ["EUR", "USD", "JPY"])
def test_operating_plus_fx_is_actual_minus_budget_on_the_demo(demo_db_path, quarter_key, currency):
    q = periods.parse_quarter_key(quarter_key)
    with duckdb.connect(str(demo_db_path), read_only=True) as con:
        data = review.build(con, q, "budget", Filters(period=q, comparison=q, currency=currency))
        budget_eur = con.execute(
            "SELECT sum(budget_revenue_eur) FROM budgets WHERE quarter_start = ?", [q.start]
        ).fetchone()[0]
        plan = plan_rates.rates_for(con, q.start.year, plan_rates.quarter_of(q.start))
    f = review.figures(data)
    scale = abs(f["revenue"])
    assert f["budget"] == pytest.approx(budget_eur * plan[currency], rel=1e-12)
    assert f["variance_operating"] + f["variance_fx"] == pytest.approx(
        f["revenue"] - f["budget"], abs=1e-9 * scale
    )
    assert f["variance_operating"] == pytest.approx(f["revenue_plan"] - f["budget"], rel=1e-12)
    steps = sum(f["bridge"][e] for e in ("base", "volume", "mix", "price", "new", "fx"))
    assert steps == pytest.approx(f["revenue"], abs=1e-9 * scale)
    assert f["bridge"]["fx"] == pytest.approx(f["variance_fx"], abs=1e-9 * scale)
    regions = data.regions[data.regions["region"] != review.TOTAL]
    assert regions["variance_operating"].sum() == pytest.approx(
        f["variance_operating"], abs=1e-9 * scale
    )


def test_an_edited_table_saves_through_the_importer_and_deletes_removed_rows(fixture_con):
    """The Data page editor's save: the edited table as a plan_rates file, then the rows
    removed from the table deleted."""
    load_plan(fixture_con)  # USD 1.10 and GBP 0.85 for 2024, USD 1.05 for Q1
    edited = plan_rates.stored(fixture_con)
    edited = edited[edited["currency_code"] != "GBP"].reset_index(drop=True)  # GBP deleted
    edited.loc[edited["quarter"].isna(), "units_per_eur"] = 1.12  # USD's year rate edited
    edited.loc[len(edited)] = [2025, 3, "CHF", 0.93]  # a row added
    report = importer.import_file(fixture_con, "plan_rates", plan_rates.to_csv(edited), "table")
    assert (report.status, report.rows_rejected) == ("loaded", 0), report.rejected
    assert plan_rates.delete_others(fixture_con, edited) == 1
    assert plan_rates.stored(fixture_con).to_dict("records") == [
        {"year": 2024, "quarter": None, "currency_code": "USD", "units_per_eur": 1.12},
        {"year": 2024, "quarter": 1, "currency_code": "USD", "units_per_eur": 1.05},
        {"year": 2025, "quarter": 3, "currency_code": "CHF", "units_per_eur": 0.93},
    ]
    # A half year is written as such, so the importer rejects it instead of rounding it.
    half = edited.assign(year=edited["year"].astype("float64"))
    half.loc[0, "year"] = 2024.5
    checked = importer.import_file(
        fixture_con, "plan_rates", plan_rates.to_csv(half), "table", commit=False
    )
    assert any(r["reason"] == "must be a whole number" for r in checked.rejected)
