"""Plan rates: stored per year (or quarter), imported like any kind, set in the demo, and
the figures at plan rates worked out by hand on the tiny fixture (tests/analytics/conftest.py).
"""

from __future__ import annotations

import duckdb
import pytest

from analytics import importer, plan_rates
from analytics.errors import UserError

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
