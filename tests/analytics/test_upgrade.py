"""A store made by an earlier version (schema before the monthly summaries and the optional
cost and channel: tests/analytics/schema_before_summaries.sql, from git 59d5fb5^) is
upgraded once, after which an orders import without cost or channel loads and every figure
equals a store made by this version."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from analytics import importer, overview, periods, rollups, store
from analytics.filters import Filters

OLD_SCHEMA = Path(__file__).with_name("schema_before_summaries.sql")
DERIVED = ["sales_daily", "sales_monthly", "orders_daily", *rollups.SUMMARIES, "split_orders"]
# A customer and a product the store does not know (so no standard cost to take), no
# channel, no unit cost: only this version loads it.
ORDERS = (
    b"order_id,order_date,customer_id,country,currency,product_id,quantity,unit_price\n"
    b"NEW-1,{day},NEW-C,DE,EUR,NEW-P,3,100\n"
)


def old_store(demo: Path, path: Path) -> None:
    """The demo's data in the old schema, as the old code would have left it."""
    with duckdb.connect(str(path)) as con:
        con.execute(OLD_SCHEMA.read_text(encoding="utf-8"))
        con.execute(f"ATTACH '{demo}' AS demo (READ_ONLY)")
        tables = con.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_catalog = current_database() AND table_schema = 'main'"
        ).fetchall()
        for (table,) in tables:
            cols = [
                c
                for (c,) in con.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_catalog = "
                    "current_database() AND table_name = ? ORDER BY ordinal_position",
                    [table],
                ).fetchall()
            ]
            order = " ORDER BY order_date" if table == "order_lines" else ""
            con.execute(f"INSERT INTO {table} SELECT {', '.join(cols)} FROM demo.{table}{order}")


def snapshot(path: Path) -> dict:
    with duckdb.connect(str(path), read_only=True) as con:
        tables = {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in DERIVED}
        tables["customers"] = con.execute("SELECT * FROM customers ORDER BY ALL").fetchall()
        tables["order_lines"] = con.execute("SELECT * FROM order_lines ORDER BY ALL").fetchall()
        (end,) = con.execute("SELECT max(order_date) FROM order_lines").fetchone()
        quarter = periods.quarter_start(end)
        period = periods.Period(periods.add_months(quarter, -3), quarter, "q")
        f = Filters(period=period, comparison=period, currency="EUR")
        kpis = overview.kpis(con, f)
    # The stored rows are compared exactly; a figure summed over them may differ in its last
    # bits with the physical layout (DuckDB sums row groups in parallel).
    tables["kpis"] = [
        (name, pytest.approx(value, rel=1e-12))
        for name, value in zip(kpis["metric"], kpis["current"], strict=True)
    ]
    return tables


@pytest.fixture
def stores(demo_db_path, tmp_path):
    old, fresh = tmp_path / "old.duckdb", tmp_path / "fresh.duckdb"
    old_store(demo_db_path, old)
    shutil.copy(demo_db_path, fresh)
    return old, fresh


def test_the_old_store_refuses_an_import_without_cost_or_channel(stores):
    old, _ = stores
    with duckdb.connect(str(old)) as con:
        (day,) = con.execute("SELECT max(order_date) FROM order_lines").fetchone()
        data = ORDERS.replace(b"{day}", str(day).encode())
        with pytest.raises(duckdb.Error):
            importer.import_file(con, "orders", data, "no-cost.csv")


def test_an_upgraded_store_loads_an_import_without_cost_and_equals_a_fresh_one(stores):
    old, fresh = stores
    with duckdb.connect(str(old), read_only=True) as con:
        pending = store.pending_upgrades(con)
    assert pending == {
        "recreate": ["customers", "order_lines"],
        "nullable": [],
        "rebuild": sorted(
            [
                "account_monthly",
                "account_monthly_reported",
                "account_orders_monthly",
                "currency_daily",
                "item_monthly",
                "key_lines",
                "item_monthly_reported",
                "orders_monthly",
                "rep_monthly",
                "sales_daily",
                "sales_monthly",
                "sales_monthly_reported",
                "split_orders",
            ]
        ),
        "create": [
            "funnel_stages",
            "order_lines_awaiting_rate",
            "plan_rates",
            "product_cost_lines",
            "product_costs",
            "summary_currencies",
        ],
    }
    assert store.needs_upgrade(old) and not store.needs_upgrade(fresh)
    assert store.upgrade(old) is True
    assert not store.needs_upgrade(old) and store.upgrade(old) is False
    assert snapshot(old) == snapshot(fresh)
    with duckdb.connect(str(old), read_only=True) as con:
        dates = [d for (d,) in con.execute("SELECT order_date FROM order_lines").fetchall()]
        assert dates == sorted(dates), "order lines stay in date order"
        assert con.execute(
            "SELECT is_nullable FROM information_schema.columns "
            "WHERE table_name = 'order_lines' AND column_name = 'unit_cost_eur'"
        ).fetchone() == ("YES",)
        # Created empty: an earlier version had no plan rates to carry over.
        assert con.execute("SELECT count(*) FROM plan_rates").fetchone() == (0,)

    for path in (old, fresh):
        with duckdb.connect(str(path)) as con:
            (day,) = con.execute("SELECT max(order_date) FROM order_lines").fetchone()
            data = ORDERS.replace(b"{day}", str(day).encode())
            report = importer.import_file(con, "orders", data, "no-cost.csv")
            assert report.status == "loaded", report.message
            assert con.execute(
                "SELECT channel, unit_cost_eur FROM order_lines WHERE order_id = 'NEW-1'"
            ).fetchone() == ("unassigned", None)
    assert snapshot(old) == snapshot(fresh)


def test_only_a_not_null_unit_cost_is_altered_in_place(demo_db_path, tmp_path):
    path = tmp_path / "notnull.duckdb"
    shutil.copy(demo_db_path, path)
    with duckdb.connect(str(path)) as con:
        con.execute("ALTER TABLE order_lines ALTER COLUMN unit_cost_eur SET NOT NULL")
        con.execute("ALTER TABLE sales_daily DROP COLUMN known_cost_net_eur")
        pending = store.pending_upgrades(con)
    assert pending == {
        "recreate": [],
        "nullable": ["order_lines"],
        "rebuild": ["sales_daily"],
        "create": [],
    }
    before = snapshot(demo_db_path)
    assert store.upgrade(path) is True
    assert snapshot(path) == before
    assert not store.needs_upgrade(path)
