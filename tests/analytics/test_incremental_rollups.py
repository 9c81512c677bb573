"""Incremental refresh of the rollups and summaries (issue 19): after each kind of load the
derived tables equal a full rebuild from order_lines, row for row (EXCEPT ALL both ways),
and only the months the load touched were rebuilt.

Loads go through the importer on a copy of the demo store: an append in a new month, an
append into a stored month (with an order whose lines fall into two months), the removal of
an import (undo), lines awaiting a rate converted by a rates import, and lines re-costed
by a standard-cost import.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import math
import shutil

import duckdb
import pandas as pd
import pytest

from analytics import db, fx, importer, markets, rollups, store, summary_currencies
from analytics.filters import Filters
from analytics.importer import Options
from analytics.importer.undo import undo_import
from analytics.periods import Period

DERIVED = [
    "sales_daily",
    "sales_monthly",
    "orders_daily",
    *rollups.SUMMARIES,
    "split_orders",
    rollups.KEY_LINES,
]
HEADER = [
    "order_id",
    "line_no",
    "order_date",
    "customer_id",
    "country",
    "currency",
    "product_id",
    "rep_id",
    "channel",
    "quantity",
    "unit_price",
    "discount_pct",
    "unit_cost_eur",
]


def assert_equals_full_rebuild(con: duckdb.DuckDBPyConnection) -> None:
    """Every derived table equals what a full rebuild from the lines gives, row for row: the
    keys and counts exactly (EXCEPT ALL both ways), the DOUBLE sums to 1e-12 relative (the
    same lines summed in another order can differ in the last bit)."""
    for t in DERIVED:
        con.execute(f"CREATE OR REPLACE TEMP TABLE inc_{t} AS SELECT * FROM {t}")
    con.execute("BEGIN")
    try:
        rollups.rebuild_sales_rollups(con)
        for t in DERIVED:
            described = con.execute(f"DESCRIBE {t}").fetchall()
            exact = ", ".join(c[0] for c in described if c[1] != "DOUBLE")
            floats = [i for i, c in enumerate(described) if c[1] == "DOUBLE"]
            for a, b in ((f"inc_{t}", t), (t, f"inc_{t}")):
                extra = con.execute(
                    f"SELECT {exact} FROM {a} EXCEPT ALL SELECT {exact} FROM {b} LIMIT 3"
                ).fetchall()
                assert extra == [], (t, f"rows of {a} not in {b}", extra)
            # the exact columns hold each table's key, so sorted by them the rows pair up
            order = f"ORDER BY {exact} NULLS FIRST"
            got = con.execute(f"SELECT * FROM inc_{t} {order}").fetchall()
            full = con.execute(f"SELECT * FROM {t} {order}").fetchall()
            assert len(got) == len(full), t
            for g, w in zip(got, full, strict=True):
                for i in floats:
                    assert math.isclose(g[i], w[i], rel_tol=1e-12, abs_tol=1e-9), (t, g, w)
                assert [v for i, v in enumerate(g) if i not in floats] == [
                    v for i, v in enumerate(w) if i not in floats
                ], (t, g, w)
    finally:
        con.execute("ROLLBACK")


@pytest.fixture
def con(demo_db_path, tmp_path, monkeypatch):
    path = tmp_path / "store.duckdb"
    shutil.copy(demo_db_path, path)
    con = duckdb.connect(str(path))
    yield con
    con.close()


@pytest.fixture
def rebuilt(monkeypatch):
    """The spans each _rebuild call was given (None: a full rebuild)."""
    calls: list = []
    real = rollups._rebuild

    def spy(con, spans, *args, **kwargs):
        calls.append(spans)
        return real(con, spans, *args, **kwargs)

    monkeypatch.setattr(rollups, "_rebuild", spy)
    return calls


def month_span(month: dt.date) -> tuple[dt.date, dt.date]:
    nxt = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return (month, nxt - dt.timedelta(days=1))


def orders_csv(rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return out.getvalue().encode()


def lines_like(con, prefix: str, day: dt.date, n: int, cost: bool = True) -> list[list]:
    """n stored lines (EUR ones: rated every day) as new orders of `prefix` on `day`."""
    rows = con.execute(
        """
        SELECT order_id, line_no, customer_id, country_code, currency_code, product_id, rep_id,
               channel, quantity, unit_price_local, discount_pct, unit_cost_eur
        FROM order_lines WHERE currency_code = 'EUR' ORDER BY order_date, order_id, line_no
        LIMIT $n
        """,
        {"n": n},
    ).fetchall()
    return [
        [f"{prefix}-{r[0]}", r[1], day.isoformat(), *r[2:11], r[11] if cost else ""] for r in rows
    ]


def load(con, rows, name="inc.csv") -> str:
    report = importer.import_file(con, "orders", orders_csv(rows), name)
    assert report.status == "loaded" and report.rows_loaded == len(rows), report.message
    return report.import_id


def last_month(con) -> dt.date:
    return con.execute("SELECT max(order_date) FROM order_lines").fetchone()[0].replace(day=1)


def test_append_in_a_new_month(con, rebuilt):
    new = (last_month(con).replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    day = new + dt.timedelta(days=6)
    before = con.execute("SELECT count(*) FROM account_monthly").fetchone()[0]
    load(con, lines_like(con, "NEW", day, 40))
    assert rebuilt == [[month_span(new)]]
    assert con.execute("SELECT count(*) FROM account_monthly").fetchone()[0] > before
    assert con.execute(
        "SELECT sum(line_count) FROM currency_daily WHERE order_date = $d", {"d": day}
    ).fetchone()[0] == (40)
    assert_equals_full_rebuild(con)


def test_append_into_stored_months_then_undo(con, rebuilt):
    first = last_month(con).replace(month=3)
    second = first.replace(month=5)
    rows = lines_like(con, "OLD", first + dt.timedelta(days=9), 30)
    # One order with a line in each of two months: a split order (counted once, from lines).
    split = lines_like(con, "SPLIT", first + dt.timedelta(days=3), 2)
    split[1][0] = split[0][0]
    split[1][1] = 2
    split[1][2] = (second + dt.timedelta(days=3)).isoformat()
    sums = con.execute(
        "SELECT count(*), sum(net_amount_eur) FROM sales_daily WHERE order_date < $m",
        {"m": first},
    ).fetchone()
    import_id = load(con, rows + split)
    assert rebuilt == [[month_span(first), month_span(second)]]
    assert con.execute("SELECT order_id FROM split_orders").fetchall() == [(split[0][0],)]
    # months before the load are untouched
    assert (
        con.execute(
            "SELECT count(*), sum(net_amount_eur) FROM sales_daily WHERE order_date < $m",
            {"m": first},
        ).fetchone()
        == sums
    )
    assert_equals_full_rebuild(con)

    rebuilt.clear()
    undo_import(con, import_id)
    assert rebuilt == [[month_span(first), month_span(second)]]
    assert con.execute("SELECT count(*) FROM split_orders").fetchone()[0] == 0
    assert_equals_full_rebuild(con)


def test_lines_awaiting_a_rate_converted_by_a_rates_import(con, rebuilt):
    month = last_month(con).replace(month=2)
    day = month + dt.timedelta(days=10)
    rows = lines_like(con, "ARS", day, 5)
    for r in rows:
        r[5] = "ARS"  # no ARS rate is stored: the lines wait for one
    load(con, rows)
    assert rebuilt == []  # no line reached order_lines
    held = con.execute("SELECT count(*) FROM order_lines_awaiting_rate").fetchone()[0]
    assert held == 5
    assert_equals_full_rebuild(con)

    rebuilt.clear()
    rates = f"rate_date,currency,units_per_eur\n{day.isoformat()},ARS,900\n".encode()
    report = importer.import_file(con, "rates", rates, "ars.csv")
    assert report.status == "loaded", report.message
    assert con.execute("SELECT count(*) FROM order_lines_awaiting_rate").fetchone()[0] == 0
    assert rebuilt == [[month_span(month)]]
    assert con.execute(
        "SELECT sum(line_count) FROM currency_daily WHERE currency_code = 'ARS'"
    ).fetchone()[0] == (5)
    assert_equals_full_rebuild(con)


def test_lines_recosted_by_a_standard_cost_import(con, rebuilt):
    month = last_month(con).replace(month=4)
    rows = lines_like(con, "NOCOST", month + dt.timedelta(days=2), 6, cost=False)
    product = rows[0][6]

    def costs(value: float) -> str:
        data = f"Material,Standard cost,Valid from\n{product},{value},2000-01-01\n".encode()
        report = importer.import_file(
            con, "product_costs", data, "costs.csv", Options(cost_currency="EUR")
        )
        assert report.status == "loaded", report.message

    costs(3.5)
    load(con, rows)  # its lines without a cost take the standard cost
    cost = "SELECT sum(cost_eur) FROM account_monthly WHERE month = $m"
    before = con.execute(cost, {"m": month}).fetchone()[0]
    units = sum(r[9] for r in rows if r[6] == product)
    rebuilt.clear()
    costs(4.5)  # a corrected cost file re-costs them: 1 EUR more a unit
    assert rebuilt == [[month_span(month)]]
    assert con.execute(cost, {"m": month}).fetchone()[0] == pytest.approx(before + units)
    assert_equals_full_rebuild(con)


def test_a_product_moved_to_another_product_line_moves_its_past_sales(con, rebuilt):
    """A products file that changes a stored product's product line rebuilds the months of
    its lines: the rollups keyed by product line then hold its sales under the new line."""
    product, sku, name, old_line, category = con.execute(
        "SELECT product_id, sku, name, product_line, category FROM products "
        "WHERE product_id IN (SELECT product_id FROM order_lines) ORDER BY product_id LIMIT 1"
    ).fetchone()
    new_line = con.execute(
        "SELECT min(product_line) FROM products WHERE product_line <> $old", {"old": old_line}
    ).fetchone()[0]
    by_line = "SELECT product_line, sum(net_amount_eur) FROM sales_daily GROUP BY ALL"
    before = dict(con.execute(by_line).fetchall())
    moved = con.execute(
        "SELECT sum(net_amount_eur) FROM order_lines WHERE product_id = $p", {"p": product}
    ).fetchone()[0]
    assert moved > 0

    def products(line: str, status: str, label: str = name) -> None:
        data = (
            "product_id,sku,name,product_line,category\n"
            f"{product},{sku},{label},{line},{category}\n"
        ).encode()
        report = importer.import_file(con, "products", data, "products.csv")
        assert report.status == status, report.message

    products(old_line, "unchanged")
    products(
        old_line, "loaded", label=name + " (renamed)"
    )  # a name change only: nothing to rebuild
    assert rebuilt == []
    products(new_line, "loaded")
    assert rebuilt != []
    after = dict(con.execute(by_line).fetchall())
    assert after[old_line] == pytest.approx(before[old_line] - moved, rel=1e-12)
    assert after[new_line] == pytest.approx(before[new_line] + moved, rel=1e-12)
    assert_equals_full_rebuild(con)


def test_a_store_built_before_the_smaller_grain_upgrades_to_the_same_figures(
    demo_db_path, tmp_path
):
    path = tmp_path / "old.duckdb"
    shutil.copy(demo_db_path, path)
    f = Filters(
        Period(dt.date(2026, 1, 1), dt.date(2026, 3, 31), "Q1"),
        Period(dt.date(2025, 1, 1), dt.date(2025, 3, 31), "Q1 2025"),
    )
    with duckdb.connect(str(path)) as con:
        top = markets.top_accounts(con, f, 25)
        # account_monthly as main built it (with rep_id), and no rep_monthly
        con.execute("DROP TABLE rep_monthly")
        con.execute("DROP TABLE account_monthly")
        con.execute(
            """
            CREATE TABLE account_monthly AS
            SELECT CAST(date_trunc('month', o.order_date) AS DATE) AS month, o.customer_id,
                   o.rep_id, o.country_code, o.currency_code, o.channel, p.product_line,
                   sum(o.quantity) AS units, sum(o.net_amount_local) AS net_amount_local,
                   sum(o.net_amount_eur) AS net_amount_eur,
                   coalesce(sum(o.quantity * o.unit_cost_eur), 0) AS cost_eur,
                   count(*) AS line_count, sum(o.net_amount_local) AS known_cost_net_local,
                   sum(o.net_amount_eur) AS known_cost_net_eur
            FROM order_lines o LEFT JOIN products p USING (product_id) GROUP BY ALL
            """
        )
    assert store.needs_upgrade(path)
    assert store.upgrade(path) is True
    assert not store.needs_upgrade(path)
    with duckdb.connect(str(db.current_file(path)), read_only=True) as con:
        columns = {r[0] for r in con.execute("DESCRIBE account_monthly").fetchall()}
        assert "rep_id" not in columns
        assert (
            con.execute("SELECT sum(line_count) FROM rep_monthly").fetchone()[0]
            == (con.execute("SELECT count(*) FROM order_lines").fetchone()[0])
        )
        got = markets.top_accounts(con, f, 25)
    pd.testing.assert_frame_equal(got, top, rtol=1e-9)


# --- the summary currencies' rows follow the rates and the list ------------------------------


@pytest.fixture
def reported(monkeypatch):
    """The (months, currencies) each rebuild_reported call was given."""
    calls: list = []
    real = rollups.rebuild_reported

    def spy(con, months, currencies):
        calls.append((None if months is None else sorted(set(months)), list(currencies)))
        return real(con, months, currencies)

    monkeypatch.setattr(rollups, "rebuild_reported", spy)
    return calls


def reported_revenue(con, currency: str, month: dt.date) -> float:
    return con.execute(
        "SELECT sum(revenue_reported) FROM account_monthly_reported "
        "WHERE reporting_currency = $c AND month = $m",
        {"c": currency, "m": month},
    ).fetchone()[0]


def test_a_rates_import_on_a_day_with_lines_refreshes_that_month_then_undo(con, rebuilt, reported):
    """A USD rate imported for a day that has sales but no USD publication (the rate of the
    last publication before it applied): the month's USD rows take it, by exactly the day's
    EUR sales x (new rate - old rate); GBP's rows and the other tables are not rebuilt. Undone,
    the old rate applies again."""
    day, old_rate, eur = con.execute(
        """
        SELECT c.order_date, f.units_per_eur,
               (SELECT sum(net_amount_eur) FROM order_lines o WHERE o.order_date = c.order_date)
        FROM (SELECT DISTINCT order_date FROM currency_daily) c
        JOIN fx_daily f ON f.rate_date = c.order_date AND f.currency_code = 'USD'
        WHERE NOT f.is_publication_day
          AND f.rate_date + 1 IN (SELECT rate_date FROM fx_rates WHERE currency_code = 'USD')
          AND month(c.order_date) = month(c.order_date + 1)
        ORDER BY 1 DESC LIMIT 1
        """
    ).fetchone()  # the next day is a publication, so the new rate holds for `day` alone
    month = day.replace(day=1)
    before = {c: reported_revenue(con, c, month) for c in ("USD", "GBP")}
    new_rate = old_rate * 1.01
    report = importer.import_file(
        con,
        "rates",
        f"rate_date,currency,units_per_eur\n{day},USD,{new_rate!r}\n".encode(),
        "r.csv",
    )
    assert report.status == "loaded", report.message
    assert reported == [([month], ["USD"])] and rebuilt == []
    assert reported_revenue(con, "USD", month) == pytest.approx(
        before["USD"] + eur * (new_rate - old_rate), rel=1e-12
    )
    assert reported_revenue(con, "GBP", month) == before["GBP"]
    assert_equals_full_rebuild(con)

    reported.clear()
    undo_import(con, report.import_id)
    assert reported == [([month], ["USD"])]
    assert reported_revenue(con, "USD", month) == pytest.approx(before["USD"], rel=1e-12)
    assert_equals_full_rebuild(con)


def test_fx_update_rates_for_days_with_sales_refreshes_their_month(con, reported):
    """EUR lines sold after the last ECB publication are in USD's and GBP's rows at the last
    rate carried forward; fx-update then brings the days' own rates, and the month's rows
    are rebuilt at them: the month's USD revenue is the lines' EUR x the new rate."""
    last = con.execute("SELECT max(rate_date) FROM fx_rates").fetchone()[0]
    day = last + dt.timedelta(days=1)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    lines = lines_like(con, "LATE", day, 12)
    load(con, lines)
    month = day.replace(day=1)
    eur = con.execute(
        "SELECT sum(net_amount_eur) FROM order_lines WHERE order_date >= $m", {"m": month}
    ).fetchone()[0]
    rate = dict(
        con.execute(
            "SELECT currency_code, units_per_eur FROM fx_rates WHERE rate_date = $d", {"d": last}
        ).fetchall()
    )
    assert reported_revenue(con, "USD", month) == pytest.approx(eur * rate["USD"], rel=1e-12)
    reported.clear()
    same = lambda: contextlib.nullcontext(con)  # noqa: E731
    answer = {"rates": {"USD": rate["USD"] * 1.02, "GBP": rate["GBP"] * 0.99}}
    result = fx.update_rates(same, same, until=day, fetch=lambda d, left: answer)
    assert result.ok, result.message
    assert sorted(reported) == [([month], ["GBP"]), ([month], ["USD"])]
    assert reported_revenue(con, "USD", month) == pytest.approx(eur * rate["USD"] * 1.02, rel=1e-12)
    assert reported_revenue(con, "GBP", month) == pytest.approx(eur * rate["GBP"] * 0.99, rel=1e-12)
    assert_equals_full_rebuild(con)


def test_changing_the_summary_currencies_builds_and_drops_their_rows(con):
    def listed():
        return con.execute(
            "SELECT DISTINCT reporting_currency FROM item_monthly_reported ORDER BY 1"
        ).fetchall()

    assert summary_currencies.stored(con) == ["GBP", "USD"] and listed() == [("GBP",), ("USD",)]
    change = summary_currencies.set_currencies(con, ["usd", "CHF", "GBP"])
    assert (change.added, change.removed) == (["CHF"], [])
    assert listed() == [("CHF",), ("GBP",), ("USD",)]
    assert_equals_full_rebuild(con)  # CHF's rows are what a rebuild with CHF listed gives
    f = Filters(
        Period(dt.date(2026, 1, 1), dt.date(2026, 3, 31), "Q1"),
        Period(dt.date(2025, 1, 1), dt.date(2025, 3, 31), "Q1 2025"),
        currency="CHF",
    )
    pd.testing.assert_frame_equal(
        markets.top_accounts(con, f, 25), markets.top_accounts(con, f, 25, use_summary=False)
    )
    change = summary_currencies.set_currencies(con, ["CHF"])
    assert (change.added, change.removed) == ([], ["GBP", "USD"])
    assert listed() == [("CHF",)]
    assert con.execute(
        "SELECT count(*) FROM account_monthly_reported WHERE reporting_currency <> 'CHF'"
    ).fetchone() == (0,)
    assert_equals_full_rebuild(con)
    for bad, says in ((["EUR"], "base currency"), (["CHF", "XYZ"], "No exchange rates stored")):
        with pytest.raises(summary_currencies.UnknownCurrency, match=says):
            summary_currencies.set_currencies(con, bad)
        assert summary_currencies.stored(con) == ["CHF"] and listed() == [("CHF",)]
