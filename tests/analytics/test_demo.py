"""Invariants of a built demo store (30k lines, seed 7, from the session fixture)."""

from __future__ import annotations

import duckdb
import pytest

from analytics import demo
from tests.conftest import DEMO_ROWS, DEMO_SEED

AGGREGATES = """
    SELECT count(*), count(DISTINCT order_id), sum(quantity), round(sum(net_amount_local), 2),
           round(sum(net_amount_eur), 2), min(order_date), max(order_date),
           (SELECT count(*) FROM opportunity_snapshots), (SELECT count(*) FROM customers),
           (SELECT round(sum(quota_eur), 0) FROM quotas)
    FROM order_lines
"""


@pytest.fixture(scope="module")
def con(demo_db_path):
    con = duckdb.connect(str(demo_db_path), read_only=True)
    yield con
    con.close()


def one(con, sql):
    return con.execute(sql).fetchall()[0]


def test_row_count_is_exactly_as_asked(con):
    assert one(con, "SELECT count(*) FROM order_lines")[0] == DEMO_ROWS


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ("order_lines", "order_id, line_no"),
        ("customers", "customer_id"),
        ("products", "product_id"),
        ("reps", "rep_id"),
        ("opportunities", "opportunity_id"),
        ("opportunity_snapshots", "snapshot_date, opportunity_id"),
        ("activities", "activity_id"),
        ("quotas", "rep_id, quarter_start"),
        ("budgets", "country_code, product_line, quarter_start"),
        ("price_list", "product_id, country_code, valid_from"),
        ("market_data", "country_code, year"),
    ],
)
def test_keys_are_unique(con, table, key):
    total, distinct = one(con, f"SELECT count(*), count(DISTINCT ({key})) FROM {table}")
    assert total > 0
    assert distinct == total


def test_every_line_has_a_rate_and_eur_is_local_over_rate(con):
    missing, worst = one(
        con,
        """
        SELECT count(*) FILTER (WHERE f.units_per_eur IS NULL),
               max(abs(o.net_amount_eur - o.net_amount_local / f.units_per_eur))
        FROM order_lines o
        LEFT JOIN fx_daily f ON f.rate_date = o.order_date AND f.currency_code = o.currency_code
        """,
    )
    assert missing == 0
    assert worst < 1e-6


def test_rates_follow_the_latest_ecb_publication(con):
    # Independently of fx_daily: the latest fx_rates row on or before each order date.
    worst = one(
        con,
        """
        SELECT max(abs(o.net_amount_eur - o.net_amount_local / r.units_per_eur))
        FROM (SELECT * FROM order_lines USING SAMPLE 2000 ROWS (reservoir, 3)) o
        ASOF JOIN fx_rates r
          ON r.currency_code = o.currency_code AND r.rate_date <= o.order_date
        WHERE o.currency_code <> 'EUR'
        """,
    )[0]
    assert worst < 1e-6


def test_net_amount_is_quantity_times_price_less_discount(con):
    worst = one(
        con,
        """
        SELECT max(abs(net_amount_local - quantity * unit_price_local * (1 - discount_pct)))
        FROM order_lines
        """,
    )[0]
    assert worst < 1e-6


def test_breadth_countries_regions_currencies(con):
    countries, regions, currencies = one(
        con,
        """
        SELECT count(DISTINCT o.country_code), count(DISTINCT c.region),
               count(DISTINCT o.currency_code)
        FROM order_lines o JOIN countries c USING (country_code)
        """,
    )
    assert countries >= 40
    assert regions >= 5
    assert currencies >= 20
    assert one(con, "SELECT count(*) FROM order_lines WHERE country_code = 'RU'")[0] == 0


def test_returns_are_about_two_percent(con):
    share = one(con, "SELECT avg((quantity < 0)::INT) FROM order_lines")[0]
    assert 0.01 <= share <= 0.03


def test_dates_span_the_demo_years_in_date_order(con):
    first, last = one(con, "SELECT min(order_date), max(order_date) FROM order_lines")
    assert (first.year, first.month) == (2021, 1)
    assert str(last) == "2026-09-30"
    # Physically in date order: no row has an earlier date than the row before it.
    out_of_order = one(
        con,
        """
        SELECT count(*) FROM (
            SELECT order_date < lag(order_date) OVER (ORDER BY rowid) AS back FROM order_lines
        ) WHERE back
        """,
    )[0]
    assert out_of_order == 0


def test_euro_adopters_switch_currency(con):
    rows = dict(
        con.execute(
            """
            SELECT country_code || ' ' || currency_code, max(order_date)
            FROM order_lines WHERE country_code IN ('HR', 'BG') GROUP BY 1
            """
        ).fetchall()
    )
    assert str(rows["HR HRK"]) <= "2022-12-31"
    assert str(rows["BG BGN"]) <= "2025-12-31"
    assert (
        one(
            con,
            "SELECT min(order_date) FROM order_lines WHERE currency_code = 'EUR' AND country_code = 'HR'",
        )[0].year
        == 2023
    )


def test_price_lists_do_not_overlap_and_lines_use_them(con):
    overlaps = one(
        con,
        """
        SELECT count(*) FROM price_list a JOIN price_list b
          ON a.product_id = b.product_id AND a.country_code = b.country_code
         AND a.valid_from < b.valid_from AND coalesce(a.valid_to, DATE '9999-12-31') >= b.valid_from
        """,
    )[0]
    assert overlaps == 0
    mismatched = one(
        con,
        """
        SELECT count(*) FROM order_lines o JOIN price_list p
          ON p.product_id = o.product_id AND p.country_code = o.country_code
         AND o.order_date BETWEEN p.valid_from AND coalesce(p.valid_to, DATE '9999-12-31')
        WHERE p.currency_code <> o.currency_code OR p.list_price_local <> o.unit_price_local
        """,
    )[0]
    assert mismatched == 0


def test_channel_discounts_are_in_their_bands(con):
    bands = {
        row[0]: (row[1], row[2])
        for row in con.execute(
            "SELECT channel, min(discount_pct), max(discount_pct) FROM order_lines GROUP BY 1"
        ).fetchall()
    }
    assert set(bands) == {"key account", "distributor", "direct", "web"}
    assert bands["web"][1] <= 0.05
    assert bands["distributor"][0] >= 0.25
    assert bands["direct"][1] <= 0.16


def test_global_accounts_span_several_countries(con):
    spans = [
        row[0]
        for row in con.execute(
            """
            SELECT count(DISTINCT country_code) FROM customers
            WHERE global_account_id IS NOT NULL GROUP BY global_account_id
            """
        ).fetchall()
    ]
    assert len(spans) >= 10
    assert min(spans) >= 3


def test_reps_form_regional_teams_under_one_head(con):
    heads = one(con, "SELECT count(*) FROM reps WHERE manager_id IS NULL")[0]
    assert heads == 1
    orphans = one(
        con,
        """
        SELECT count(*) FROM reps r LEFT JOIN reps m ON m.rep_id = r.manager_id
        WHERE r.manager_id IS NOT NULL AND m.rep_id IS NULL
        """,
    )[0]
    assert orphans == 0
    # Every order line's rep owns the customer; only web orders may be unassigned.
    assert (
        one(con, "SELECT count(*) FROM order_lines WHERE rep_id IS NULL AND channel <> 'web'")[0]
        == 0
    )


def test_plans_cover_every_quarter_to_year_end(con):
    quota_quarters, budget_quarters = one(
        con,
        """
        SELECT (SELECT count(DISTINCT quarter_start) FROM quotas),
               (SELECT count(DISTINCT quarter_start) FROM budgets)
        """,
    )
    assert quota_quarters == budget_quarters == 24  # 2021Q1..2026Q4


def test_pipeline_has_every_outcome_and_snapshots_on_mondays(con):
    statuses = {r[0] for r in con.execute("SELECT DISTINCT status FROM opportunities").fetchall()}
    assert statuses == {"open", "won", "lost"}
    not_monday = one(
        con, "SELECT count(*) FROM opportunity_snapshots WHERE dayofweek(snapshot_date) <> 1"
    )[0]
    assert not_monday == 0
    slipped = one(
        con,
        """
        SELECT count(DISTINCT opportunity_id) FROM (
            SELECT opportunity_id, count(DISTINCT close_date) AS dates
            FROM opportunity_snapshots GROUP BY 1
        ) WHERE dates > 1
        """,
    )[0]
    assert slipped > 0


def test_the_build_is_recorded_as_the_data_source(con):
    kind, name, loaded = one(con, "SELECT kind, file_name, rows_loaded FROM import_log")
    assert kind == "demo"
    assert f"seed {DEMO_SEED}" in name and "fictional" in name
    assert loaded == DEMO_ROWS


def test_same_seed_same_data_other_seed_other_data(demo_db_path, tmp_path, monkeypatch):
    """Same seed, same data, whatever the chunk size: `again` is generated 7,000 lines at a
    time (five chunks) and committed in three batches, the session's store in one."""
    from analytics.demo import orders

    again = tmp_path / "again.duckdb"
    other = tmp_path / "other.duckdb"
    monkeypatch.setattr(orders, "CHUNK_LINES", 7_000)
    monkeypatch.setattr(orders, "COMMIT_LINES", 14_000)
    demo.build_database(again, rows=DEMO_ROWS, seed=DEMO_SEED)
    monkeypatch.undo()
    demo.build_database(other, rows=DEMO_ROWS, seed=DEMO_SEED + 1)

    def aggregates(path):
        with duckdb.connect(str(path), read_only=True) as c:
            return c.execute(AGGREGATES).fetchall()

    def lines(path):
        with duckdb.connect(str(path), read_only=True) as c:
            return c.execute("SELECT * FROM order_lines ORDER BY rowid").fetchall()

    assert aggregates(again) == aggregates(demo_db_path)
    assert lines(again) == lines(demo_db_path)
    assert aggregates(other) != aggregates(demo_db_path)


def test_the_chunked_generator_draws_what_the_whole_frame_one_drew(con):
    """Figures of seed 7 at 30k lines recorded from the generator that held every line in
    one frame (before issue 19): orders, units, EUR revenue, and the parts drawn after the
    lines (snapshots, quotas, activities), which only match if the generator ends where the
    whole-frame one ended."""
    assert one(
        con,
        """
        SELECT count(DISTINCT order_id), sum(quantity), round(sum(net_amount_eur), 0),
               (SELECT count(*) FROM opportunity_snapshots),
               (SELECT round(sum(quota_eur), 0) FROM quotas),
               (SELECT count(*) FROM activities)
        FROM order_lines
        """,
    ) == (6449, 207076, 180077759.0, 37546, 201401000.0, 5000)


def test_refuses_to_overwrite_a_store(demo_db_path):
    with pytest.raises(ValueError, match="already exists"):
        demo.build_database(demo_db_path, rows=DEMO_ROWS, seed=DEMO_SEED)


def test_a_build_that_fails_part_way_leaves_no_store(tmp_path, monkeypatch):
    """The lines are committed in batches, so a failure after them must delete the file."""
    import importlib

    from analytics.demo import orders

    build = importlib.import_module("analytics.demo.build")  # the module, not its function

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(orders, "CHUNK_LINES", 1_000)
    monkeypatch.setattr(orders, "COMMIT_LINES", 1_000)
    monkeypatch.setattr(build, "insert_pipeline", broken)
    path = tmp_path / "half.duckdb"
    with pytest.raises(RuntimeError, match="disk full"):
        demo.build_database(path, rows=3_000, seed=DEMO_SEED)
    assert not path.exists()
    assert not path.with_name(path.name + ".wal").exists()
