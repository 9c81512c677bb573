"""The monthly summaries (issue 19) give exactly what the line-level queries give.

Every rewritten query runs twice, through the summaries and with use_summary=False (the
order_lines definition), on the hand-made fixture and on the demo store, over whole-month,
partial-month and overlapping windows, with dimension filters, in EUR (summaries read)
and in other currencies (reported figures fall back to lines; constant ones do not).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pytest

from analytics import (
    bridge,
    db,
    fx,
    markets,
    overview,
    plan_rates,
    quality,
    review,
    rollups,
    sales,
)
from analytics.filters import Filters, dimension_conditions
from analytics.periods import Period as _Period

D = dt.date


def Period(start, end):
    return _Period(start, end, f"{start} – {end}")


def frames_equal(a: pd.DataFrame, b: pd.DataFrame, keys: list[str]) -> None:
    a = a.sort_values(keys, ignore_index=True)
    b = b.sort_values(keys, ignore_index=True)
    pd.testing.assert_frame_equal(a, b, check_dtype=False, rtol=1e-9, atol=1e-9)


@pytest.fixture(scope="module")
def demo(demo_db_path):
    con = duckdb.connect(str(demo_db_path), read_only=True)
    yield con
    con.close()


def demo_windows(con):
    """(period, comparison) pairs: whole months, partial months on both ends, one day."""
    last = con.execute("SELECT max(order_date) FROM order_lines").fetchone()[0]
    first_of = last.replace(day=1)
    return [
        (
            Period(D(last.year - 1, 10, 1), D(last.year, 9, 30)),
            Period(D(last.year - 2, 10, 1), D(last.year - 1, 9, 30)),
        ),
        (
            Period(D(last.year, 4, 1), D(last.year, 6, 30)),
            Period(D(last.year, 1, 1), D(last.year, 3, 31)),
        ),
        (
            Period(D(last.year - 1, 2, 14), D(last.year, 3, 9)),
            Period(D(last.year - 2, 1, 20), D(last.year - 1, 2, 13)),
        ),
        (Period(first_of, first_of), Period(D(last.year - 1, 5, 3), D(last.year - 1, 5, 3))),
    ]


SCOPES = [
    {},
    {"regions": ("Western Europe",), "product_lines": ("Sensors",)},
    {"channels": ("web", "direct")},
]


def check_all(con, period, comparison, currency, basis="reported", **dims):
    f = Filters(period, comparison, currency=currency, basis=basis, **dims)
    for fn in (
        lambda u: markets.top_accounts(con, f, 25, use_summary=u),
        lambda u: markets.global_accounts(con, f, use_summary=u),
        lambda u: review.account_movers(con, f, use_summary=u),
    ):
        frames_equal(
            fn(True),
            fn(False),
            ["customer_id"] if "customer_id" in fn(True) else ["global_account_id"],
        )
    frames_equal(
        markets._counts(con, f, use_summary=True),
        markets._counts(con, f, use_summary=False),
        ["region", "country_code"],
    )
    frames_equal(
        markets.products_sold(con, f, use_summary=True),
        markets.products_sold(con, f, use_summary=False),
        ["product_id"],
    )
    for product in con.execute("SELECT product_id FROM products ORDER BY 1 LIMIT 3").fetchall():
        frames_equal(
            markets.price_position(con, f, product[0], use_summary=True),
            markets.price_position(con, f, product[0], use_summary=False),
            ["country_code", "currency_code"],
        )
    try:
        args = ((comparison.start, comparison.end), (period.start, period.end), currency, f)
        frames_equal(
            bridge.bridge_items(con, *args, use_summary=True),
            bridge.bridge_items(con, *args, use_summary=False),
            ["product_id", "country_code"],
        )
    except bridge.RateUnavailable:
        with pytest.raises(bridge.RateUnavailable):
            bridge.bridge_items(con, *args, use_summary=False)


@pytest.mark.parametrize("currency", ["EUR", "USD", "GBP"])
@pytest.mark.parametrize("dims", SCOPES)
def test_demo_figures_equal_line_level(demo, currency, dims):
    for period, comparison in demo_windows(demo):
        check_all(demo, period, comparison, currency, **dims)


@pytest.mark.parametrize(
    ("period", "comparison"),
    [
        (Period(D(2024, 1, 1), D(2024, 2, 29)), Period(D(2023, 11, 1), D(2023, 12, 31))),
        (Period(D(2024, 1, 7), D(2024, 2, 1)), Period(D(2024, 1, 1), D(2024, 1, 6))),
        (Period(D(2024, 2, 1), D(2024, 2, 29)), Period(D(2024, 1, 1), D(2024, 1, 31))),
    ],
)
@pytest.mark.parametrize("currency", ["EUR", "USD"])
def test_fixture_figures_equal_line_level(fixture_con, period, comparison, currency):
    for dims in [*SCOPES[:1], {"product_lines": ("Software",)}, {"channels": ("direct",)}]:
        check_all(fixture_con, period, comparison, currency, **dims)


def test_fixture_top_accounts_by_hand(fixture_con):
    """January 2024 in EUR, read wholly from account_monthly: C2 = 200/0.86 + 240/0.80."""
    f = Filters(Period(D(2024, 1, 1), D(2024, 1, 31)), Period(D(2023, 12, 1), D(2023, 12, 31)))
    assert sales.split_window([(f.period.start, f.period.end)]) == (
        [(D(2024, 1, 1), D(2024, 1, 31))],
        [],
    )
    top = markets.top_accounts(fixture_con, f).set_index("customer_id")
    assert top.loc["C2", "revenue"] == pytest.approx(200 / 0.86 + 240 / 0.80, rel=1e-12)
    assert top.loc["C1", "revenue"] == pytest.approx(450 / 1.08 + 300 / 1.2 - 60 / 1.2, rel=1e-12)
    assert top.loc["C1", "orders"] == 2  # O1 and O3 (two lines, two product lines)
    assert list(top.index[:2]) == ["C1", "C2"]  # 616.67 EUR ahead of 532.56


def test_top_accounts_in_eur_send_two_statements_and_no_rate_look_up(fixture_con, monkeypatch):
    """Whole months in EUR: the top accounts with their names, then the comparison's revenue,
    the orders and the split-orders count in one more statement; EUR's rate days are not
    looked up (markets.check_rates, which the page runs first, covers them)."""
    f = Filters(Period(D(2024, 1, 1), D(2024, 1, 31)), Period(D(2023, 12, 1), D(2023, 12, 31)))
    sent = []
    run = db._run
    monkeypatch.setattr(db, "_run", lambda c, sql, p, t: (sent.append(sql), run(c, sql, p, t))[1])
    top = markets.top_accounts(fixture_con, f)
    assert len(sent) == 2
    assert not any("fx_daily" in sql for sql in sent)
    assert "split_orders" in sent[1]
    monkeypatch.setattr(db, "_run", run)
    frames_equal(top, markets.top_accounts(fixture_con, f, use_summary=False), ["customer_id"])
    assert list(top["customer_id"]) == ["C1", "C2", "C3"]
    assert list(top["orders"]) == [2, 2, 1]


def test_eur_sales_on_a_day_without_a_rate_are_refused_before_the_top_accounts(fixture_con):
    """The line-level figure drops a line on a day fx_daily does not hold (its rate join),
    which the EUR summary read, without the look-up, would count: the page's rate check
    refuses such a period first, so the two never differ on screen."""
    fixture_con.execute(
        "INSERT INTO order_lines VALUES ('O9', 1, DATE '2024-06-03', 'C3', 'P2', 'R1', 'DE', "
        "'web', 'EUR', 1, 50.0, 0.0, 50.0, 50.0, 10.0)"
    )
    rollups.rebuild_sales_rollups(fixture_con)
    f = Filters(Period(D(2024, 6, 1), D(2024, 6, 30)), Period(D(2024, 5, 1), D(2024, 5, 31)))
    with pytest.raises(fx.RateUnavailable, match="EUR on 03 Jun 2024"):
        markets.check_rates(fixture_con, f)


def test_split_orders_fall_back_to_lines(fixture_con):
    """An order whose lines are in two months is listed, and counted once."""
    fixture_con.execute(
        "INSERT INTO order_lines VALUES ('O6', 2, DATE '2024-01-31', 'C4', 'P1', 'R1', 'US', "
        "'web', 'USD', 1, 10.0, 0.0, 10.0, 10.0, 5.0)"
    )
    rollups.rebuild_sales_rollups(fixture_con)
    assert fixture_con.execute("SELECT * FROM split_orders").fetchall() == [("O6",)]
    f = Filters(Period(D(2024, 1, 1), D(2024, 2, 29)), Period(D(2023, 11, 1), D(2023, 12, 31)))
    top = markets.top_accounts(fixture_con, f).set_index("customer_id")
    assert top.loc["C4", "orders"] == 1
    check_all(fixture_con, f.period, f.comparison, "EUR")


def test_split_window_covers_every_day_once():
    ranges = [(D(2024, 1, 15), D(2024, 6, 10)), (D(2024, 3, 1), D(2024, 8, 31))]
    months, rest = sales.split_window(ranges)
    # February to May lie wholly in each range or outside it; June is partial in both,
    # so its days (read twice over, once per range) come from the lines.
    assert months == [(D(2024, 2, 1), D(2024, 5, 31)), (D(2024, 7, 1), D(2024, 8, 31))]
    covered = set()
    for s, e in months + rest:
        covered |= {s + dt.timedelta(days=i) for i in range((e - s).days + 1)}
    wanted = set()
    for s, e in ranges:
        wanted |= {s + dt.timedelta(days=i) for i in range((e - s).days + 1)}
    assert covered == wanted
    # no day is read twice from the summary and the lines
    month_days = {s + dt.timedelta(days=i) for s, e in months for i in range((e - s).days + 1)}
    assert not any(s <= d <= e for d in month_days for s, e in rest)


def test_a_store_from_an_earlier_version_is_upgraded(demo_db_path, tmp_path):
    import shutil

    from analytics import store

    path = tmp_path / "old.duckdb"
    shutil.copy(demo_db_path, path)
    tables = [*rollups.SUMMARIES, "split_orders"]
    with duckdb.connect(str(path)) as con:
        full = {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables}
        for t in tables:  # as a store made before the summaries existed
            con.execute(f"DROP TABLE {t}")
    assert store.needs_upgrade(path)
    assert store.upgrade(path) is True
    assert not store.needs_upgrade(path) and store.upgrade(path) is False
    with duckdb.connect(str(path), read_only=True) as con:
        for t in tables:
            assert con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() == full[t], t


def test_quality_counts_equal_the_lines(demo, fixture_con):
    for con in (demo, fixture_con):
        count, first, last, days = con.execute(
            "SELECT count(*), min(order_date), max(order_date), count(DISTINCT order_date) "
            "FROM order_lines"
        ).fetchone()
        cov = quality.coverage(con)
        assert (cov["lines"], cov["first"], cov["last"]) == (count, first, last)
        # Business days (Monday to Friday) with no line, counted in Python from the lines.
        sold = {r[0] for r in con.execute("SELECT DISTINCT order_date FROM order_lines").fetchall()}
        span = (first + dt.timedelta(days=n) for n in range((last - first).days + 1))
        assert cov["days_without_sales"] == sum(
            1 for day in span if day.weekday() < 5 and day not in sold
        )
        assert days == len(sold)
        expected = con.execute(
            """
            SELECT o.currency_code, count(*) FROM order_lines o
            ANTI JOIN fx_daily f ON f.rate_date = o.order_date AND f.currency_code = o.currency_code
            GROUP BY 1 ORDER BY 1
            """
        ).fetchall()
        got = quality.unconverted_lines(con).sort_values("currency_code")
        assert list(zip(got["currency_code"], got["lines"], strict=True)) == expected


def test_quality_orphans_equal_the_lines(fixture_con):
    fixture_con.execute(
        "INSERT INTO order_lines VALUES ('O9', 1, DATE '2024-01-10', 'C9', 'P9', 'R9', 'US', "
        "'web', 'USD', 1, 10.0, 0.0, 10.0, 10.0, 5.0)"
    )
    fixture_con.execute("INSERT INTO reps VALUES ('R1', 'Rep', 'T', 'Americas', NULL)")
    rollups.rebuild_sales_rollups(fixture_con)
    rows = dict(quality.orphans(fixture_con).values)
    assert rows["Order lines with an unknown customer"] == 1
    assert rows["Order lines with an unknown product"] == 1
    assert rows["Order lines with an unknown rep"] == 1
    # the orphan line still counts in the figures the line-level queries give
    f = Filters(Period(D(2024, 1, 1), D(2024, 1, 31)), Period(D(2023, 12, 1), D(2023, 12, 31)))
    check_all(fixture_con, f.period, f.comparison, "EUR")


def active_by_hand(con, period, regions=(), product_lines=(), channels=()):
    """Distinct customers of the matching lines in a period, counted in pandas."""
    lines = con.execute(
        """
        SELECT o.order_date, o.customer_id, o.channel, c.region, p.product_line
        FROM order_lines o LEFT JOIN countries c USING (country_code)
        LEFT JOIN products p USING (product_id)
        """
    ).df()
    lines["order_date"] = pd.to_datetime(lines["order_date"]).dt.date
    keep = lines["order_date"].between(period.start, period.end)
    if regions:
        keep &= lines["region"].isin(regions)
    if product_lines:
        keep &= lines["product_line"].isin(product_lines)
    if channels:
        keep &= lines["channel"].isin(channels)
    return lines.loc[keep, "customer_id"].nunique()


@pytest.mark.parametrize("dims", SCOPES)
def test_active_customers_equal_the_lines_on_mid_month_windows(demo, dims):
    last = demo.execute("SELECT max(order_date) FROM order_lines").fetchone()[0]
    windows = [
        *demo_windows(demo),
        # starting and ending mid-month, so both edges read lines and the middle months
        # the summary; and a window within one month (lines only)
        (
            Period(D(last.year - 1, 3, 17), D(last.year, 2, 11)),
            Period(D(last.year - 1, 1, 5), D(last.year - 1, 1, 28)),
        ),
    ]
    counts = []
    for period, comparison in windows:
        f = Filters(period, comparison, **dims)
        got = overview.active_customers(demo, f)
        assert got == overview.active_customers(demo, f, use_summary=False)
        assert got == (
            active_by_hand(demo, period, **dims),
            active_by_hand(demo, comparison, **dims),
        )
        counts.append(got[0])
    assert min(counts[:3]) > 0  # the windows longer than a day are not empty


def test_active_customers_by_hand_on_the_fixture(fixture_con):
    """January 2024 whole (summary): C1, C2, C3; 7 Jan - 1 Feb (lines and no whole month):
    C1 (O3), C2 (O5), C3 (O4), C4 (O6). Sensors only in January: C1, C2."""
    jan = Period(D(2024, 1, 1), D(2024, 1, 31))
    edge = Period(D(2024, 1, 7), D(2024, 2, 1))
    assert overview.active_customers(fixture_con, Filters(jan, edge)) == (3, 4)
    sensors = Filters(jan, edge, product_lines=("Sensors",))
    assert overview.active_customers(fixture_con, sensors) == (2, 2)
    both = Period(D(2024, 1, 9), D(2024, 2, 29))  # 9 Jan edge days, February whole
    assert overview.active_customers(fixture_con, Filters(both, jan)) == (3, 3)  # C2, C3, C4


# --- sales_monthly and the figures read from it (issue 19 item 3) ---------------------------

# sales_monthly by its definition: the lines of known products summed per month and key.
SALES_MONTHLY_DEFINITION = """
SELECT CAST(date_trunc('month', o.order_date) AS DATE) AS month, o.country_code,
       o.currency_code, o.channel, p.product_line,
       sum(o.quantity) AS units, sum(o.net_amount_local) AS net_amount_local,
       sum(o.net_amount_eur) AS net_amount_eur,
       coalesce(sum(o.quantity * o.unit_cost_eur), 0) AS cost_eur, count(*) AS line_count,
       coalesce(sum(o.net_amount_eur) FILTER (WHERE o.unit_cost_eur IS NOT NULL), 0)
           AS known_cost_net_eur,
       coalesce(sum(o.net_amount_local) FILTER (WHERE o.unit_cost_eur IS NOT NULL), 0)
           AS known_cost_net_local
FROM order_lines o JOIN products p USING (product_id)
GROUP BY ALL
"""
SALES_MONTHLY_KEY = ["month", "country_code", "currency_code", "channel", "product_line"]


def assert_sales_monthly_is_its_definition(con) -> None:
    """sales_monthly equals the lines summed per month (keys and counts exactly, sums to
    1e-12), and equals sales_daily summed per month for the columns both hold."""
    stored = con.execute("SELECT * FROM sales_monthly").df()
    wanted = con.execute(SALES_MONTHLY_DEFINITION).df()
    assert len(stored) > 0
    frames_equal(stored, wanted[list(stored.columns)], SALES_MONTHLY_KEY)
    daily = con.execute(
        "SELECT CAST(date_trunc('month', order_date) AS DATE) AS month, country_code, "
        "currency_code, channel, product_line, sum(units) AS units, "
        "sum(net_amount_eur) AS net_amount_eur, sum(cost_eur) AS cost_eur, "
        "sum(line_count) AS line_count, sum(known_cost_net_eur) AS known_cost_net_eur "
        "FROM sales_daily GROUP BY ALL"
    ).df()
    frames_equal(stored[list(daily.columns)], daily, SALES_MONTHLY_KEY)


def test_sales_monthly_is_its_definition_on_the_demo(demo):
    assert_sales_monthly_is_its_definition(demo)
    months, rows = demo.execute(
        "SELECT count(DISTINCT month), count(*) FROM sales_monthly"
    ).fetchone()
    assert months >= 60 and rows < demo.execute("SELECT count(*) FROM sales_daily").fetchone()[0]


def test_sales_monthly_on_the_fixture_by_hand(fixture_con):
    rollups.rebuild_sales_rollups(fixture_con)
    assert_sales_monthly_is_its_definition(fixture_con)
    # January 2024, the fixture's GB x GBP x key account x Sensors lines (conftest.py)
    rows = fixture_con.execute(
        "SELECT month, country_code, currency_code, sum(units), sum(line_count) "
        "FROM sales_monthly GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    lines = fixture_con.execute(
        "SELECT CAST(date_trunc('month', order_date) AS DATE), country_code, currency_code, "
        "sum(quantity), count(*) FROM order_lines JOIN products USING (product_id) "
        "GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    assert rows == lines


def test_whole_months_read_the_monthly_tables():
    q = Period(D(2024, 4, 1), D(2024, 6, 30))
    base = Period(D(2024, 1, 1), D(2024, 3, 31))
    whole = [(q.start, q.end), (base.start, base.end)]
    sql, _ = sales.periods_source(Filters(q, base), whole)
    assert "FROM sales_monthly)" in sql and "sales_daily" not in sql
    sql, _ = sales.periods_source(Filters(q, base), [(D(2024, 4, 2), D(2024, 6, 30))])
    assert "FROM sales_monthly)" in sql and "sales_daily" in sql  # May and June, and 2-30 April
    # Another currency: its summary rows, and sales_daily only if it is not listed
    sql, _ = sales.periods_source(Filters(q, base, currency="USD", basis="constant"), whole)
    assert "sales_monthly_reported" in sql and "FROM sales_monthly)" not in sql
    assert "NOT IN (SELECT currency_code FROM summary_currencies)" in sql
    sql, _ = sales.periods_source(Filters(q, base), whole, use_monthly=False)
    assert "sales_monthly" not in sql
    sql, _ = sales.periods_source(Filters(q, base, currency="USD"), whole, use_monthly=False)
    assert "sales_monthly" not in sql and "summary_currencies" not in sql


def line_level_overview(con, f: Filters) -> dict:
    """The Overview's EUR reported figures from order_lines alone, in pandas: per country
    revenue, margin and units in each period, orders and active customers."""
    lines = con.execute(
        "SELECT o.*, p.product_line, c.region FROM order_lines o "
        "LEFT JOIN products p USING (product_id) JOIN countries c USING (country_code)"
    ).df()
    lines["order_date"] = pd.to_datetime(lines["order_date"]).dt.date
    if f.regions:
        lines = lines[lines["region"].isin(f.regions)]
    if f.product_lines:
        lines = lines[lines["product_line"].isin(f.product_lines)]
    if f.channels:
        lines = lines[lines["channel"].isin(f.channels)]
    out = {}
    for name, p in (("cur", f.period), ("cmp", f.comparison)):
        seen = lines[(lines["order_date"] >= p.start) & (lines["order_date"] <= p.end)]
        sold = seen[seen["product_line"].notna()]  # sales rollups join known products
        known = sold[sold["unit_cost_eur"].notna()]
        by = sold.groupby("country_code")
        out[name] = {
            "revenue": by["net_amount_eur"].sum(),
            "units": by["quantity"].sum(),
            "known": known.groupby("country_code")["net_amount_eur"].sum(),
            "cost": (known["quantity"] * known["unit_cost_eur"])
            .groupby(known["country_code"])
            .sum(),
            "orders": seen["order_id"].nunique(),
            "customers": seen["customer_id"].nunique(),
        }
    return out


@pytest.mark.parametrize("dims", SCOPES)
def test_overview_figures_equal_the_line_level_definition(demo, dims):
    for period, comparison in demo_windows(demo):
        f = Filters(period, comparison, **dims)
        page = overview.figures(demo, f)
        want = line_level_overview(demo, f)
        kpis = page["kpis"].set_index("metric")
        for column, name in (("current", "cur"), ("comparison", "cmp")):
            w = want[name]
            assert kpis.loc["net_revenue", column] == pytest.approx(w["revenue"].sum(), rel=1e-9)
            assert kpis.loc["units", column] == w["units"].sum()
            assert kpis.loc["orders", column] == w["orders"]
            assert kpis.loc["active_customers", column] == w["customers"]
            if w["known"].sum():
                margin = (w["known"].sum() - w["cost"].sum()) / w["known"].sum()
                assert kpis.loc["gross_margin_pct", column] == pytest.approx(margin, rel=1e-9)
        countries = page["countries"].set_index("country_code")
        cur = want["cur"]
        revenue = cur["revenue"].reindex(countries.index, fill_value=0.0)
        assert list(countries["revenue"]) == pytest.approx(list(revenue), rel=1e-9, abs=1e-6)
        units = cur["units"].reindex(countries.index, fill_value=0)
        assert list(countries["units"]) == list(units)
        margin = (cur["known"] - cur["cost"]) / cur["known"]
        got = countries["gross_margin_pct"].dropna()
        assert list(got) == pytest.approx(list(margin.reindex(got.index)), rel=1e-9)
        assert list(countries["revenue"]) == sorted(countries["revenue"], reverse=True)


@pytest.mark.parametrize("basis", ["reported", "constant", "plan"])
@pytest.mark.parametrize("dims", SCOPES)
def test_figures_through_sales_monthly_equal_sales_daily(demo, basis, dims):
    """Every basis and filter, through sales_monthly and through sales_daily alone (the
    figures' definitions before it): the Overview's figures and trend, sales_by, the
    Markets scorecard's sales."""
    for currency in ("EUR", "USD"):
        for period, comparison in demo_windows(demo):
            f = Filters(period, comparison, currency=currency, basis=basis, **dims)
            got, want = overview.figures(demo, f), overview.figures(demo, f, use_summary=False)
            for part in ("kpis", "countries"):
                pd.testing.assert_frame_equal(got[part], want[part], rtol=1e-9, atol=1e-9)
            frames_equal(
                markets._scorecard_sales(demo, f),
                markets._scorecard_sales(demo, f, use_summary=False),
                ["region", "country_code"],
            )
            src, params = sales.periods_source(f, [(period.start, period.end)])
            daily, daily_params = sales.source(f, period.start, period.end)
            sums = "SELECT region, country_code, sum(revenue_reported), sum(units) FROM ({}) GROUP BY ALL"
            frames_equal(
                demo.execute(sums.format(src), params).df(),
                demo.execute(sums.format(daily), daily_params).df(),
                ["region", "country_code"],
            )


@pytest.mark.parametrize("basis", ["reported", "constant", "plan"])
@pytest.mark.parametrize("currency", ["EUR", "USD", "JPY"])
def test_figures_equal_sales_by_country(demo, basis, currency):
    """overview.figures (one UNION ALL, its country sums grouped by period flags and added
    up in Python) against sales_by per country (FILTERed sums per period, a second method),
    order_counts and active_customers: every basis, summary and other currencies, whole
    and partial months, filters, and overlapping periods."""
    last = demo.execute("SELECT max(order_date) FROM order_lines").fetchone()[0]
    windows = [
        *demo_windows(demo),
        (
            Period(D(last.year, 3, 10), D(last.year, 6, 20)),
            Period(D(last.year, 1, 1), D(last.year, 4, 30)),
        ),
    ]
    checked = 0
    for dims in SCOPES:
        for period, comparison in windows:
            f = Filters(period, comparison, currency=currency, basis=basis, **dims)
            try:
                overview.check_rates(demo, f)
            except (fx.RateUnavailable, plan_rates.PlanRateMissing):
                continue
            checked += 1
            page = overview.figures(demo, f)
            want = overview.sales_by(demo, f, ("country_code",)).set_index("country_code")
            got = page["countries"].set_index("country_code")
            assert sorted(got.index) == sorted(want.index)
            want = want.loc[got.index]
            for column in ("revenue", "revenue_prior", "gross_margin_pct", "margin_coverage"):
                assert list(got[column]) == pytest.approx(
                    list(want[column]), rel=1e-9, abs=1e-9, nan_ok=True
                ), column
            assert list(got["units"]) == list(want["units"])
            # no value without a prior value (never inf)
            growth = want["revenue"] / want["revenue_prior"].where(want["revenue_prior"] != 0) - 1
            assert list(got["growth"]) == pytest.approx(list(growth), rel=1e-9, nan_ok=True)
            totals = overview.sales_by(demo, f).iloc[0]
            kpis = page["kpis"].set_index("metric")
            assert kpis.loc["net_revenue", "current"] == pytest.approx(totals.revenue, rel=1e-9)
            assert kpis.loc["net_revenue", "comparison"] == pytest.approx(
                totals.revenue_prior, rel=1e-9
            )
            assert kpis.loc["gross_margin_pct", "current"] == pytest.approx(
                totals.gross_margin_pct, rel=1e-9, nan_ok=True
            )
            assert kpis.loc["units", "comparison"] == totals.units_prior
            assert tuple(kpis.loc["orders", ["current", "comparison"]]) == overview.order_counts(
                demo, f
            )
            customers = overview.active_customers(demo, f, use_summary=False)
            assert tuple(kpis.loc["active_customers", ["current", "comparison"]]) == customers
    assert checked >= len(SCOPES) * 3  # most windows have every rate


def test_a_store_made_before_sales_monthly_gets_it(demo_db_path, tmp_path):
    import shutil

    from analytics import store

    path = tmp_path / "old.duckdb"
    shutil.copy(demo_db_path, path)
    with duckdb.connect(str(path)) as con:
        before = {
            t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in rollups.SUMMARIES
        }
        con.execute("DROP TABLE sales_monthly")
    with duckdb.connect(str(path), read_only=True) as con:
        assert store.pending_upgrades(con)["rebuild"] == ["sales_monthly"]
    assert store.upgrade(path) is True
    assert not store.needs_upgrade(path)
    with duckdb.connect(str(db.current_file(path)), read_only=True) as con:
        assert_sales_monthly_is_its_definition(con)
        assert {
            t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in rollups.SUMMARIES
        } == before


@pytest.mark.parametrize("dims", SCOPES)
def test_rate_checks_see_the_currencies_sold_each_quarter(demo, dims):
    """The rate checks read which currencies sell in which quarter from sales_monthly for
    whole months: the same set as sales_daily's days give, on every window."""
    for period, comparison in demo_windows(demo):
        for start, end in ((period.start, period.end), (comparison.start, period.end)):
            f = Filters(period, comparison, **dims)
            sold, params = sales._sold(f, start, end)
            got = demo.execute(
                f"SELECT DISTINCT year(order_date), quarter(order_date), currency_code "
                f"FROM ({sold}) ORDER BY ALL",
                params,
            ).fetchall()
            conditions, dim_params = dimension_conditions(f)
            where = " AND ".join(["order_date BETWEEN $start AND $end", *conditions])
            want = demo.execute(
                "SELECT DISTINCT year(order_date), quarter(order_date), currency_code "
                f"FROM sales_daily WHERE {where} ORDER BY ALL",
                dim_params | {"start": start, "end": end},
            ).fetchall()
            assert got == want
            assert ("sales_monthly" in sold) == bool(sales.split_window([(start, end)])[0])


# --- reported figures in the summary currencies ---------------------------------------------

SUMMED = {
    "accounts": ["quantity", "net_amount_local", "net_amount_eur", "cost_eur"],
    "items": ["quantity", "net_amount_local", "quantity_sold", "net_local_sold", "list_local_sold"],
}
CONVERTED = [
    "revenue_reported",
    "known_revenue_reported",
    "cost_reported",
    "revenue_constant",
    "known_revenue_constant",
    "revenue_plan",
    "known_revenue_plan",
    "cost_plan",
]


def summarised_sums(con, kind, currency, ranges, use_summary, **dims):
    """summarised's rows summed per key and per range (its order_date says which), with
    every conversion: what any caller can read from it."""
    keys = list(sales._SUMMARIES[kind][1])
    sql, params = sales.summarised(
        con,
        kind,
        currency,
        ranges,
        filters=Filters(*[Period(*r) for r in ranges[:1]] * 2, currency=currency, **dims),
        base_rates=ranges[0],
        plan=True,
        key="t",
        use_summary=use_summary,
    )
    which = " ".join(
        f"WHEN order_date BETWEEN '{s}' AND '{e}' THEN {i}" for i, (s, e) in enumerate(ranges)
    )
    measures = ", ".join(f"sum({c}) AS {c}" for c in SUMMED[kind] + CONVERTED)
    frame = con.execute(
        f"SELECT {', '.join(keys)}, CASE {which} END AS in_range, {measures} "
        f"FROM ({sql}) GROUP BY ALL",
        params,
    ).df()
    return frame, sql


@pytest.mark.parametrize("kind", ["accounts", "items"])
@pytest.mark.parametrize("dims", SCOPES)
def test_every_summary_currency_reads_its_rows_and_equals_the_lines(demo, kind, dims):
    """For each summary currency (and EUR), every converted sum of either summary equals
    its order-line definition; whole months come from the currency's own rows."""
    listed = [r[0] for r in demo.execute("SELECT currency_code FROM summary_currencies").fetchall()]
    assert sorted(listed) == ["GBP", "USD"]  # the default
    keys = [*sales._SUMMARIES[kind][1], "in_range"]
    for period, comparison in demo_windows(demo)[:3]:
        ranges = [(comparison.start, comparison.end), (period.start, period.end)]
        for currency in ["EUR", *listed]:
            got, sql = summarised_sums(demo, kind, currency, ranges, True, **dims)
            want, lines_sql = summarised_sums(demo, kind, currency, ranges, False, **dims)
            assert "monthly_reported" not in lines_sql
            assert ("monthly_reported" in sql) == (currency != "EUR"), currency
            got[keys] = got[keys].astype(object)
            want[keys] = want[keys].astype(object)
            frames_equal(got, want, keys)


def test_a_currency_not_listed_reads_the_lines(demo):
    last = demo.execute("SELECT max(order_date) FROM order_lines").fetchone()[0]
    ranges = [(D(last.year, 1, 1), D(last.year, 6, 30))]
    for kind in ("accounts", "items"):
        got, sql = summarised_sums(demo, kind, "CHF", ranges, True)
        assert "monthly" not in sql  # neither the EUR summary nor a summary currency's rows
        want, _ = summarised_sums(demo, kind, "CHF", ranges, False)
        frames_equal(got, want, [*sales._SUMMARIES[kind][1], "in_range"])


def test_fixture_reported_usd_by_hand(fixture_con):
    """USD has no rate from 20 to 31 January (9 Jan + 10 days), so January reads the lines;
    rates on 19 and 26 January close the gap and January is read from USD's own rows, each
    line at its day's rate: C1 = 450/1.08*1.08 + (300 - 60)/1.2*1.2 = 690 USD, C2 =
    200/0.86*1.10 (Saturday 6 Jan: Friday's rate) + 240/0.80*1.00, C3 = 100 EUR * 1.00."""
    jan = Filters(
        Period(D(2024, 1, 1), D(2024, 1, 31)),
        Period(D(2023, 12, 1), D(2023, 12, 31)),
        currency="USD",
    )
    assert sales._summary_days(fixture_con, "USD").days == [
        (D(2023, 12, 29), D(2024, 1, 19)),
        (D(2024, 2, 1), D(2024, 2, 11)),
    ]
    expected = {"C1": 690.0, "C2": 200 / 0.86 * 1.10 + 240 / 0.80 * 1.00, "C3": 100.0}
    before = markets.top_accounts(fixture_con, jan).set_index("customer_id")["revenue"]
    assert before.to_dict() == pytest.approx(expected, rel=1e-12)

    fixture_con.execute(
        "INSERT INTO fx_rates VALUES ('2024-01-19', 'USD', 1.05, 't'), ('2024-01-26', 'USD', 1.04, 't')"
    )
    fx.rebuild_fx_daily(fixture_con)
    days = sales._summary_days(fixture_con, "USD")
    assert days.reported and days.days == [(D(2023, 12, 29), D(2024, 2, 11))]
    sql, _ = sales.summarised(fixture_con, "accounts", "USD", [(D(2024, 1, 1), D(2024, 1, 31))])
    assert "account_monthly_reported" in sql and "order_lines" not in sql
    top = markets.top_accounts(fixture_con, jan).set_index("customer_id")["revenue"]
    assert top.to_dict() == pytest.approx(expected, rel=1e-12)
    check_all(fixture_con, jan.period, jan.comparison, "USD")
    # GBP still has its gap: January in GBP reads the lines, with the same figures.
    assert sales._summary_days(fixture_con, "GBP").days[0] == (D(2023, 12, 29), D(2024, 1, 19))
    check_all(fixture_con, jan.period, jan.comparison, "GBP")


def test_a_store_made_before_the_summary_currencies_is_upgraded(
    demo_db_path, tmp_path, monkeypatch
):
    """Only the new tables are made: the setting with its default (USD, GBP), and their rows
    filled from the lines as a build fills them; the other summaries are not rebuilt."""
    import shutil

    from analytics import db, store, summary_currencies

    path = tmp_path / "old.duckdb"
    shutil.copy(demo_db_path, path)
    with duckdb.connect(str(path)) as con:
        built = {
            t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in rollups.REPORTED
        }
        for t in [*rollups.REPORTED, "summary_currencies"]:
            con.execute(f"DROP TABLE {t}")
        assert store.pending_upgrades(con) == {
            "recreate": [],
            "nullable": [],
            "rebuild": sorted(rollups.REPORTED),
            "create": ["summary_currencies"],
        }
    monkeypatch.setattr(rollups, "rebuild_summaries", lambda con: pytest.fail("rebuilt all"))
    assert store.upgrade(path) is True
    assert not store.needs_upgrade(path) and store.upgrade(path) is False
    with duckdb.connect(str(db.current_file(path)), read_only=True) as con:
        assert summary_currencies.stored(con) == ["GBP", "USD"]
        for t, rows in built.items():
            assert len(rows) > 1000
            got = con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
            assert len(got) == len(rows), t
            # keys and counts exactly, sums to float rounding (summed in another order)
            for g, w in zip(got, rows, strict=True):
                floats = [i for i, v in enumerate(w) if isinstance(v, float)]
                assert [v for i, v in enumerate(g) if i not in floats] == [
                    v for i, v in enumerate(w) if i not in floats
                ], t
                assert [g[i] for i in floats] == pytest.approx([w[i] for i in floats], rel=1e-12)


def test_figures_without_summaries_read_no_monthly_table(demo_db_path, tmp_path):
    """use_summary=False is the definition the summaries are tested against: with every
    monthly table emptied it gives the same figures (the order counts once read
    orders_monthly whatever use_summary said)."""
    import shutil

    path = tmp_path / "emptied.duckdb"
    shutil.copy(demo_db_path, path)
    con = duckdb.connect(str(path))
    try:
        (period, comparison) = demo_windows(con)[0]
        filters = Filters(period, comparison, currency="USD")
        before = overview.figures(con, filters, use_summary=False)
        for table in (*rollups.SUMMARIES, "sales_monthly", "orders_monthly"):
            con.execute(f"DELETE FROM {db.identifier(table, db.TABLES)}")
        after = overview.figures(con, filters, use_summary=False)
    finally:
        con.close()
    pd.testing.assert_frame_equal(after["kpis"], before["kpis"])
    orders = before["kpis"].set_index("metric").loc["orders"]
    assert orders["current"] > 0 and orders["comparison"] > 0
    pd.testing.assert_frame_equal(after["countries"], before["countries"])
