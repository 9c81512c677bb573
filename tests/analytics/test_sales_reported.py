"""The sales figures in a summary currency (issue 19): whole months from
sales_monthly_reported (reported, constant and plan alike), order counts from orders_monthly,
equal to their definitions (sales_daily and orders_daily alone, use_monthly=False) on
windows with partial months, in a summary currency, in a currency not listed, in EUR, on
every basis, with region, country, product-line and channel filters and within a user's
reach; and they really come from the monthly tables (emptying sales_daily's or
orders_daily's whole months leaves them unchanged), except for a currency not listed.
"""

from __future__ import annotations

import datetime as dt
import shutil

import duckdb
import pandas as pd
import pytest

from analytics import access, markets, overview, rollups, sales
from analytics.filters import Filters
from analytics.periods import Period as _Period

D = dt.date
KEYS = ["month", "country_code", "currency_code", "channel", "product_line", "in_range"]
SUMS = [
    "units",
    "net_amount_local",
    "net_amount_eur",
    "line_count",
    "revenue_reported",
    "known_revenue_reported",
    "cost_reported",
]
CONSTANT = ["revenue_constant", "known_revenue_constant", "cost_constant"]
PLAN = ["revenue_plan", "known_revenue_plan", "cost_plan"]
SCOPES = [
    {},
    {"regions": ("Western Europe",), "product_lines": ("Sensors",)},
    {"countries": ("US", "GB", "DE"), "channels": ("web", "direct")},
]


def Period(start, end):
    return _Period(start, end, f"{start} – {end}")


@pytest.fixture(scope="module")
def demo(demo_db_path):
    con = duckdb.connect(str(demo_db_path), read_only=True)
    yield con
    con.close()


def windows(con):
    """(period, comparison): whole months, partial months on both ends, a year to a mid-month
    day (the L12M shape), one day."""
    last = con.execute("SELECT max(order_date) FROM order_lines").fetchone()[0]
    return [
        (
            Period(D(last.year, 4, 1), D(last.year, 6, 30)),
            Period(D(last.year, 1, 1), D(last.year, 3, 31)),
        ),
        (
            Period(D(last.year - 1, 2, 14), D(last.year, 3, 9)),
            Period(D(last.year - 2, 1, 20), D(last.year - 1, 2, 13)),
        ),
        (
            Period(D(last.year - 1, last.month, 17), last),
            Period(D(last.year - 2, last.month, 17), D(last.year - 1, last.month, 16)),
        ),
        (
            Period(D(last.year, 2, 1), D(last.year, 2, 1)),
            Period(D(last.year - 1, 5, 3), D(last.year - 1, 5, 3)),
        ),
    ]


def source_sums(con, f: Filters, use_monthly: bool, plan: bool = True) -> pd.DataFrame:
    """periods_source's rows summed per month, key and range: every column a caller reads."""
    ranges = [(f.period.start, f.period.end), (f.comparison.start, f.comparison.end)]
    sql, params = sales.periods_source(f, ranges, plan=plan, use_monthly=use_monthly)
    columns = SUMS + (CONSTANT if f.basis == "constant" else []) + (PLAN if plan else [])
    which = " ".join(
        f"WHEN order_date BETWEEN DATE '{s}' AND DATE '{e}' THEN {i}"
        for i, (s, e) in enumerate(ranges)
    )
    frame = con.execute(
        f"""
        SELECT CAST(date_trunc('month', order_date) AS DATE) AS month, country_code,
               currency_code, channel, product_line, CASE {which} END AS in_range,
               {", ".join(f"sum({c}) AS {c}" for c in columns)}
        FROM ({sql}) GROUP BY ALL
        """,
        params,
    ).df()
    return frame.sort_values(KEYS, ignore_index=True)


def assert_sums_equal(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert len(got) == len(want)
    pd.testing.assert_frame_equal(got, want, check_dtype=False, rtol=1e-9, atol=1e-6)


@pytest.mark.parametrize("dims", SCOPES)
@pytest.mark.parametrize("basis", ["reported", "constant", "plan"])
@pytest.mark.parametrize("currency", ["USD", "GBP", "CHF", "EUR"])
def test_monthly_path_equals_sales_daily(demo, currency, basis, dims):
    seen = 0
    for period, comparison in windows(demo):
        f = Filters(period, comparison, currency=currency, basis=basis, **dims)
        got = source_sums(demo, f, True)
        assert_sums_equal(got, source_sums(demo, f, False))
        seen += len(got)
        got, want = overview.figures(demo, f), overview.figures(demo, f, use_summary=False)
        for part in ("kpis", "countries"):
            pd.testing.assert_frame_equal(got[part], want[part], rtol=1e-9, atol=1e-9)
        got = overview.order_counts(demo, f)
        sql, params = overview._order_counts_sql(f, use_summary=False)
        assert got == tuple(int(v) for v in demo.execute(sql, params).fetchone())
    assert seen > 100


def test_fixture_usd_whole_month_by_hand(fixture_con):
    """The fixture's January 2024 in USD, reported: each line's EUR amount at its day's USD
    rate, summed by hand from the lines; the monthly row gives the same."""
    con = fixture_con
    rollups.rebuild_sales_rollups(con)
    lines = con.execute(
        """
        SELECT o.net_amount_eur, f.units_per_eur FROM order_lines o
        JOIN products USING (product_id)
        JOIN fx_daily f ON f.rate_date = o.order_date AND f.currency_code = 'USD'
        WHERE o.order_date BETWEEN DATE '2024-01-01' AND DATE '2024-01-31'
        """
    ).fetchall()
    assert lines
    by_hand = sum(eur * rate for eur, rate in lines)
    jan = Period(D(2024, 1, 1), D(2024, 1, 31))
    f = Filters(jan, jan, currency="USD")
    sql, params = sales.periods_source(f, [(jan.start, jan.end)])
    assert "sales_monthly_reported" in sql
    got = con.execute(f"SELECT sum(revenue_reported) FROM ({sql})", params).fetchone()[0]
    assert got == pytest.approx(by_hand, rel=1e-12)
    stored = con.execute(
        "SELECT sum(revenue_reported) FROM sales_monthly_reported "
        "WHERE reporting_currency = 'USD' AND month = DATE '2024-01-01'"
    ).fetchone()[0]
    assert stored == pytest.approx(by_hand, rel=1e-12)


@pytest.fixture
def demo_copy(demo_db_path, tmp_path):
    path = tmp_path / "store.duckdb"
    shutil.copy(demo_db_path, path)
    con = duckdb.connect(str(path))
    yield con
    con.close()


def test_whole_months_come_from_the_monthly_tables(demo_copy):
    """With sales_daily's and orders_daily's rows of the whole months deleted, a summary
    currency's figures (every basis) and the order counts stay as they were; a currency not
    listed reads sales_daily for them (its figures change); the Markets scorecard's orders too."""
    con = demo_copy
    last = con.execute("SELECT max(order_date) FROM order_lines").fetchone()[0]
    period = Period(D(last.year - 1, last.month, 17), last)
    comparison = Period(D(last.year - 2, last.month, 17), D(last.year - 1, last.month, 16))
    ranges = [(period.start, period.end), (comparison.start, comparison.end)]
    months, _ = sales.split_window(ranges)
    before = {}
    for currency in ("USD", "GBP", "CHF"):
        for basis in ("reported", "constant", "plan"):
            f = Filters(period, comparison, currency=currency, basis=basis, **SCOPES[1])
            before[currency, basis] = overview.figures(con, f)
    counts = overview.order_counts(con, Filters(period, comparison, **SCOPES[1]))
    keys = ["region", "country_code"]
    scorecard = markets._counts(con, Filters(period, comparison, **SCOPES[1]))
    scorecard = scorecard.sort_values(keys, ignore_index=True)[[*keys, "orders"]]
    for table in ("sales_daily", "orders_daily"):
        for start, end in months:
            con.execute(f"DELETE FROM {table} WHERE order_date BETWEEN ? AND ?", [start, end])
    assert overview.order_counts(con, Filters(period, comparison, **SCOPES[1])) == counts
    after = markets._counts(con, Filters(period, comparison, **SCOPES[1]))
    after = after.sort_values(keys, ignore_index=True)[[*keys, "orders"]]
    assert len(scorecard) > 3
    pd.testing.assert_frame_equal(after, scorecard)
    for (currency, basis), want in before.items():
        f = Filters(period, comparison, currency=currency, basis=basis, **SCOPES[1])
        got = overview.figures(con, f)
        if currency == "CHF":
            assert got["kpis"].loc[0, "current"] < want["kpis"].loc[0, "current"]
        else:
            for part in ("kpis", "countries"):
                pd.testing.assert_frame_equal(got[part], want[part], rtol=1e-9, atol=1e-9)


def test_within_a_reach(demo_db_path):
    """A user restricted to Western Europe: the monthly rows are the reach's, and equal the
    daily definition read through the same reach."""
    con = duckdb.connect(str(demo_db_path), read_only=True)
    try:
        cur = con.cursor()
        access.restrict(cur, access.Reach(("Western Europe",), (), None))
        inside = {
            r[0]
            for r in cur.execute(
                "SELECT country_code FROM main.countries WHERE region = 'Western Europe'"
            ).fetchall()
        }
        for table in ("sales_monthly_reported", "orders_monthly"):
            seen = {
                r[0] for r in cur.execute(f"SELECT DISTINCT country_code FROM {table}").fetchall()
            }
            assert seen and seen <= inside, table
        period, comparison = windows(cur)[2]
        for currency, basis in (("USD", "constant"), ("GBP", "reported"), ("USD", "plan")):
            f = Filters(period, comparison, currency=currency, basis=basis)
            got = source_sums(cur, f, True)
            assert len(got) and set(got["country_code"]) <= inside
            assert_sums_equal(got, source_sums(cur, f, False))
            assert set(overview.figures(cur, f)["countries"]["country_code"]) <= inside
    finally:
        con.close()


def test_a_store_made_before_these_tables_gets_only_them(demo_db_path, tmp_path, monkeypatch):
    """A store of the previous version (no sales_monthly_reported, no orders_monthly) is
    upgraded with these two tables alone, equal to a build's rows; no other summary is
    rebuilt (orders_monthly from orders_daily, the reported rows of sales_monthly only)."""
    from analytics import db, rollups, store

    path = tmp_path / "old.duckdb"
    shutil.copy(demo_db_path, path)
    new = ("sales_monthly_reported", "orders_monthly")
    with duckdb.connect(str(path)) as con:
        built = {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in new}
        for t in new:
            con.execute(f"DROP TABLE {t}")
        assert store.pending_upgrades(con)["rebuild"] == sorted(new)
    monkeypatch.setattr(rollups, "rebuild_summaries", lambda con: pytest.fail("rebuilt all"))
    inserted = []
    real = rollups._insert_reported_currency

    def spy(con, lines, bound, tables):
        inserted.append(set(tables))
        return real(con, lines, bound, tables)

    monkeypatch.setattr(rollups, "_insert_reported_currency", spy)
    assert store.upgrade(path) is True
    assert inserted == [{"sales_monthly_reported"}] * 2  # GBP and USD
    with duckdb.connect(str(db.current_file(path)), read_only=True) as con:
        for t, rows in built.items():
            assert len(rows) > 1000, t
            got = con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
            assert len(got) == len(rows), t
            for g, w in zip(got, rows, strict=True):
                floats = [i for i, v in enumerate(w) if isinstance(v, float)]
                assert [v for i, v in enumerate(g) if i not in floats] == [
                    v for i, v in enumerate(w) if i not in floats
                ], t
                assert [g[i] for i in floats] == pytest.approx([w[i] for i in floats], rel=1e-12)
