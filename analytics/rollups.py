"""Rebuilding the tables derived from order_lines (run inside the same transaction as a load).

sales_daily and orders_daily serve the region, country, product-line and channel figures;
sales_monthly is sales_daily per calendar month, for the whole months of a window: six
months read 5.5k rows instead of 41.7k at 1M lines, 6.8k instead of 131.5k at 10M (the grain
stops growing once every key sells each month). Every sum in it is exact for whole months;
reported figures in a currency other than EUR need each day's rate: in a summary currency
they read sales_monthly_reported (below), in any other sales_daily. orders_monthly is
orders_daily summed per month (an order counts once, on its first line's day, in one
orders_daily row, so its months' sums are exact, a product-line filter on the order's list
of lines too): a year's order counts read ~12 months of keys instead of ~365 days'.
The summaries below serve the figures that used to read order_lines over a date window
(issue 19). Their grain, and why each figure read from them stays exact:

- account_monthly: month x customer x country x currency x channel x product line, with
  units, local, EUR and cost sums (no rep: no figure reads accounts by rep; rep_monthly
  keeps the lines per rep for the Data page's orphan check). Monthly, not daily: a customer x day grain is
  nearly as large as the lines (2.7M rows for 10M lines), while customers x months stops
  growing once customers order every month, so the table's size follows the customer base
  and the calendar, not the line count. What a month can give exactly:
    * EUR reported figures (the EUR amount was converted at the line's day rate at load);
    * constant-currency figures in any reporting currency (monthly local sums x the base
      period's average rate, which is one number per currency);
    * distinct customers over any set of whole months (the rows are per-month distinct
      sets: a customer is active in a window iff it has a row in one of its months).
  What it cannot give: a reported figure in another currency, sum(net_eur x rate[day]),
  needs the day. Carrying the sums converted at each line's day rate into every currency
  the sidebar offers (fx.current_currencies: 29 besides EUR) would take 87 more DOUBLE
  columns (revenue, known-cost revenue, cost): measured at 1M lines, +225 MB on a 0.25 GB
  store (they barely compress), ~2.5 GB at 10M, copied by every import's snapshot. So the
  company names its few reporting currencies (analytics.summary_currencies, USD and GBP by
  default), and for each of them account_monthly_reported and item_monthly_reported (see
  "reported figures" below) hold these rows again, converted line by line; any other
  reporting currency reads order_lines (analytics.sales.summarised reads no months for it).
  They are a full copy of the row's sums plus the three converted ones, read alone: the
  copy of the keys with only the three sums, joined to account_monthly on its six keys,
  measured 4x slower than reading the lines at 1M (benchmarks/README.md).
- account_orders_monthly: orders per customer and month, keyed also by country, currency,
  channel and the set of product lines the order holds (as orders_daily), so a product-line
  filter counts each order once. Summing counts is exact because an order lies in one key;
  the rare imported order that does not is listed in split_orders, and then order counts per
  account read order_lines.
- item_monthly: month x product x country x currency x channel (the bridge's items), with
  positive-quantity sums for the price position and the known-cost units for the Pricing
  lab's baseline.
- currency_daily: lines per day and currency (coverage and lines without a rate).
- key_lines: lines per customer (or product) and country, every month together: the Data
  page's lines of an unknown customer or product read the customers (products) once instead
  of every customer-month of account_monthly (3.7M rows at 10M lines, 35 % of the lines).
  Its size follows the customer base. Not a sum over one month's lines, so `refresh` keeps
  it by difference: the touched months' counts before, subtracted; after, added.
- rep_monthly: lines and their local and EUR net sums per month, rep, country and currency
  (quota attainment: reported is the EUR sum; at plan rates a month lies in one quarter, so
  its local sum per currency converts at one plan rate; and lines of an unknown rep). Its
  size follows reps x countries x months (103k rows at 10M lines), not the lines.
- account_monthly_reported, item_monthly_reported, sales_monthly_reported: the two
  summaries and sales_monthly once per summary currency (reporting_currency first), with
  each line's EUR amount and cost converted at its order date's rate and summed.
  sales_monthly_reported is a full copy of sales_monthly's row (the local sums give the
  constant and plan figures in the same read), so the sales figures of a summary currency
  read ~1/30 of sales_daily's rows over whole months (issue 19: at 50M lines the L12M
  figures in USD/GBP grew with the lines, exponent 0.4-0.6); 156k rows, ~10 MB at 10M. A line without that day's rate is left out, as the
  line-level figure leaves it out, and a month is read from them only when the currency
  has a rate on every day of it. They follow the rates as well as the lines: fx_daily's
  rebuild (every write of rates) rebuilds the months whose days with sales got a new rate
  in a summary currency (analytics.summary_currencies.refresh_for_rates).

A window that does not cover whole months reads its partial months from order_lines, which
is kept in date order, so that part costs at most two months' lines whatever the history.

Incremental refresh: a load that adds, removes or re-costs lines records the months of those
lines (`touch`, `touch_orders`), and `refresh` deletes and re-inserts every derived table's
rows of those months from the lines of those months, in the load's transaction. Every table
here is a sum over the lines of one month (sales_daily, currency_daily: of one day), except
what is per order (orders_daily, account_orders_monthly, split_orders: an order counts on
its first line's date, and is split when its lines fall into two keys), so the months of
every line of a touched order are touched too. The result equals a full rebuild row for row
(tests/analytics/test_summaries.py); rows of a refreshed earlier month are appended after
the later ones, which only widens the last row groups' date range.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import duckdb

from analytics import db

# The summaries' rows converted into each summary currency (see "reported figures" below).
REPORTED = {
    "account_monthly_reported": "month",
    "item_monthly_reported": "month",
    "sales_monthly_reported": "month",
}
# Tables rebuilt from order_lines, each with its month (or day) column.
SUMMARIES = {
    "account_monthly": "month",
    "account_orders_monthly": "month",
    "orders_monthly": "month",
    "item_monthly": "month",
    "currency_daily": "order_date",
    "rep_monthly": "month",
    **REPORTED,
}
_ROLLUPS = {"sales_daily": "order_date", "orders_daily": "order_date", "sales_monthly": "month"}
# Kept by difference from account_monthly and item_monthly (see _key_lines_before/after).
KEY_LINES = "key_lines"
# kind -> (the summary counted, its key column)
_KEY_SOURCES = {
    "customer": ("account_monthly", "customer_id"),
    "product": ("item_monthly", "product_id"),
}

# The months a load touched (first days), consumed by `refresh` in the same transaction.
_TOUCHED = "rollup_months"

# A refresh of more than this share of the stored months rebuilds everything instead: the
# deletes of nearly every row cost more than truncating.
_FULL_SHARE = 0.5

Span = tuple[dt.date, dt.date]


# Net sums of the lines with a known unit cost. When every line of a group has one, the
# group's plain sum is taken, so a store without unknown costs gets the very same number.
def _known(column: str) -> str:
    return (
        f"CASE WHEN count(o.unit_cost_eur) = count(*) THEN sum(o.{column}) "
        f"ELSE coalesce(sum(o.{column}) FILTER (WHERE o.unit_cost_eur IS NOT NULL), 0) END"
    )


def sort_order_lines(con: duckdb.DuckDBPyConnection) -> None:
    """Rewrite order_lines in date order (DESIGN: period filters then read only their own
    row groups): after lines were added that start before the latest stored day."""
    db.execute(
        con,
        "CREATE TEMP TABLE sorted_lines AS "
        "SELECT * FROM order_lines ORDER BY order_date, order_id, line_no",
    )
    db.execute(con, "DELETE FROM order_lines")
    db.execute(con, "INSERT INTO order_lines SELECT * FROM sorted_lines")
    db.execute(con, "DROP TABLE sorted_lines")


# --- what a load touched ---------------------------------------------------------------


def _ensure_touched(con: duckdb.DuckDBPyConnection) -> None:
    db.execute(con, f"CREATE TEMP TABLE IF NOT EXISTS {_TOUCHED} (month DATE NOT NULL)")


def touch_dates(con: duckdb.DuckDBPyConnection, dates: Iterable[dt.date]) -> None:
    """Record the months of these order dates (lines a load adds) for `refresh`."""
    months = sorted({d.replace(day=1) for d in dates})
    _ensure_touched(con)
    if months:
        db.execute(con, f"INSERT INTO {_TOUCHED} SELECT unnest($months)::DATE", {"months": months})


def touch(con: duckdb.DuckDBPyConnection, lines_sql: str, params: dict | None = None) -> None:
    """Record the months of the rows `lines_sql` selects (a query with an order_date column,
    e.g. the order lines a load re-costs), for `refresh`."""
    _ensure_touched(con)
    db.execute(
        con,
        f"INSERT INTO {_TOUCHED} SELECT DISTINCT CAST(date_trunc('month', order_date) AS DATE) "
        f"FROM ({lines_sql})",
        params or {},
    )


def touch_orders(
    con: duckdb.DuckDBPyConnection, orders_sql: str, params: dict | None = None
) -> None:
    """Record the months of every stored line of the orders `orders_sql` selects (an order_id
    column): call before removing lines, so an order's count moves off its old first day."""
    touch(
        con,
        f"SELECT order_date FROM order_lines WHERE order_id IN (SELECT order_id FROM ({orders_sql}))",
        params,
    )


def _spans(months: Iterable[dt.date]) -> list[Span]:
    """Consecutive months as (first day, last day) spans."""
    spans: list[Span] = []
    for month in sorted(set(months)):
        end = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
        if spans and spans[-1][1] + dt.timedelta(days=1) == month:
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((month, end))
    return spans


def _within(column: str, spans: list[Span] | None, bound: dict) -> str:
    """`column` inside one of `spans` (TRUE for None: everything), bounds added to `bound`."""
    if spans is None:
        return "TRUE"
    tests = []
    for i, (start, end) in enumerate(spans):
        tests.append(f"{column} BETWEEN $span_start_{i} AND $span_end_{i}")
        bound |= {f"span_start_{i}": start, f"span_end_{i}": end}
    return "(" + " OR ".join(tests) + ")" if tests else "FALSE"


def refresh(con: duckdb.DuckDBPyConnection) -> list[dt.date]:
    """Rebuild every derived table for the months recorded by touch/touch_dates/touch_orders
    (and the months of every line of an order with a line in one of them), inside the
    caller's transaction; forget them. Returns the months rebuilt (none: nothing recorded)."""
    exists = db.query_rows(
        con,
        "SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = $name",
        {"name": _TOUCHED},
    )[0][0]
    if not exists:
        return []
    months = {r[0] for r in db.query_rows(con, f"SELECT DISTINCT month FROM {_TOUCHED}")}
    db.execute(con, f"DROP TABLE {_TOUCHED}")
    if not months:
        return []
    # An order's lines may lie in several months (imported files): take all of them, until
    # no order of the months has a line outside them.
    while True:
        bound: dict = {}
        inside = _within("order_date", _spans(months), bound)
        more = {
            r[0]
            for r in db.query_rows(
                con,
                f"""
                SELECT DISTINCT CAST(date_trunc('month', order_date) AS DATE) FROM order_lines
                WHERE NOT {inside} AND order_id IN (SELECT order_id FROM order_lines WHERE {inside})
                """,
                bound,
            )
        }
        if not more:
            break
        months |= more
    stored = db.query_rows(
        con, "SELECT count(DISTINCT date_trunc('month', order_date)) FROM sales_daily"
    )[0][0]
    if len(months) > _FULL_SHARE * max(stored, 1):
        rebuild_sales_rollups(con)
    else:
        _rebuild(con, _spans(months), rollups=True)
    return sorted(months)


# --- rebuilding ------------------------------------------------------------------------


def rebuild_sales_rollups(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild sales_daily, orders_daily and the summaries from all of order_lines."""
    _rebuild(con, None, rollups=True)


def rebuild_sales_monthly(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild sales_monthly alone from all of order_lines (a store made before it existed)."""
    db.execute(con, "DELETE FROM sales_monthly")
    _insert_sales_monthly(con, "SELECT * FROM order_lines", {})


def _insert_sales_monthly(con: duckdb.DuckDBPyConnection, lines: str, bound: dict) -> None:
    """Insert sales_monthly's rows for the order lines `lines` selects (whole months).

    The rows are sales_daily's summed per month: the same lines (an unknown product drops out
    by the join, as there), so a figure over whole months reads about 1/30 of the rows. The
    known-cost local net is summed from the lines, since a month has no single day rate to
    derive it from the EUR figure as sales_daily's readers do."""
    db.execute(
        con,
        f"""
        INSERT INTO sales_monthly
        SELECT CAST(date_trunc('month', o.order_date) AS DATE) AS month, o.country_code,
               o.currency_code, o.channel, p.product_line,
               sum(o.quantity), sum(o.net_amount_local), sum(o.net_amount_eur),
               coalesce(sum(o.quantity * o.unit_cost_eur), 0), count(*),
               {_known("net_amount_eur")}, {_known("net_amount_local")}
        FROM ({lines}) o JOIN products p USING (product_id)
        GROUP BY ALL
        ORDER BY month
        """,
        bound,
    )


def rebuild_summaries(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild the summaries (not sales_daily, orders_daily) from all of order_lines."""
    _rebuild(con, None, rollups=False)


def _key_counts(months_where: str) -> str:
    """Lines per (kind, key, country) of the account_monthly / item_monthly rows that
    `months_where` (on their month column) selects."""
    return " UNION ALL ".join(
        f"SELECT '{kind}' AS kind, {column} AS key_id, country_code, sum(line_count) AS line_count "
        f"FROM {table} WHERE {months_where} GROUP BY ALL"
        for kind, (table, column) in _KEY_SOURCES.items()
    )


def _key_lines_before(con: duckdb.DuckDBPyConnection, spans: list[Span] | None) -> None:
    """Before the summaries' rows of `spans` are deleted: their line counts, to subtract
    (None: everything is rebuilt, so key_lines is emptied)."""
    if spans is None:
        db.execute(con, f"DELETE FROM {KEY_LINES}")
        return
    bound: dict = {}
    inside = _within("month", spans, bound)
    db.execute(
        con,
        f"CREATE OR REPLACE TEMP TABLE key_lines_change AS "
        f"SELECT kind, key_id, country_code, -line_count AS line_count FROM ({_key_counts(inside)})",
        bound,
    )


def _key_lines_after(con: duckdb.DuckDBPyConnection, spans: list[Span] | None) -> None:
    """After the summaries' rows of `spans` are inserted: key_lines = before - the old rows'
    counts + the new rows' (None: every row's counts)."""
    bound: dict = {}
    inside = _within("month", spans, bound)
    if spans is None:
        db.execute(
            con,
            f"INSERT INTO {KEY_LINES} SELECT * FROM ({_key_counts(inside)}) ORDER BY ALL",
            bound,
        )
        return
    db.execute(
        con,
        f"INSERT INTO key_lines_change SELECT kind, key_id, country_code, line_count "
        f"FROM ({_key_counts(inside)})",
        bound,
    )
    db.execute(
        con,
        f"""
        CREATE OR REPLACE TEMP TABLE key_lines_new AS
        SELECT kind, key_id, country_code, sum(line_count) AS line_count
        FROM (SELECT * FROM {KEY_LINES} k
              SEMI JOIN key_lines_change c USING (kind, key_id, country_code)
              UNION ALL SELECT * FROM key_lines_change)
        GROUP BY ALL HAVING sum(line_count) <> 0
        """,
    )
    db.execute(
        con,
        f"DELETE FROM {KEY_LINES} k USING key_lines_change c WHERE k.kind = c.kind "
        "AND k.key_id = c.key_id AND k.country_code = c.country_code",
    )
    db.execute(con, f"INSERT INTO {KEY_LINES} SELECT * FROM key_lines_new")
    db.execute(con, "DROP TABLE key_lines_change")
    db.execute(con, "DROP TABLE key_lines_new")


def rebuild_orders_monthly(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild orders_monthly alone from orders_daily (a store made before it)."""
    db.execute(con, "DELETE FROM orders_monthly")
    _insert_orders_monthly(con, None)


def _insert_orders_monthly(con: duckdb.DuckDBPyConnection, spans: list[Span] | None) -> None:
    """orders_monthly's rows for the months of `spans` (None: all): orders_daily's of those
    days summed per month, same keys. orders_daily is current for them (rebuilt just before
    in `_rebuild`, or standing when only the summaries are rebuilt), and an order lies in
    one orders_daily row, so the monthly sums count each order once."""
    bound: dict = {}
    db.execute(
        con,
        f"""
        INSERT INTO orders_monthly
        SELECT CAST(date_trunc('month', order_date) AS DATE) AS month, country_code,
               currency_code, channel, product_lines, sum(order_count)
        FROM orders_daily WHERE {_within("order_date", spans, bound)}
        GROUP BY ALL ORDER BY month
        """,
        bound,
    )


def _insert_rep_monthly(con: duckdb.DuckDBPyConnection, lines: str, bound: dict) -> None:
    """rep_monthly's rows for `lines`: per month, rep, country and currency, the lines and
    their local and EUR net sums (quota attainment on both bases, the orphan check)."""
    db.execute(
        con,
        f"""
        INSERT INTO rep_monthly
        SELECT CAST(date_trunc('month', o.order_date) AS DATE) AS month, o.rep_id,
               o.country_code, o.currency_code, count(*), sum(o.net_amount_local),
               sum(o.net_amount_eur)
        FROM ({lines}) o GROUP BY ALL ORDER BY 1
        """,
        bound,
    )


def _rebuild(con: duckdb.DuckDBPyConnection, spans: list[Span] | None, rollups: bool) -> None:
    """Delete the derived rows of `spans` (None: all) and insert them again from the order
    lines of those days. Every span is whole months (see refresh)."""
    bound: dict = {}
    inside = _within("order_date", spans, bound)
    lines = f"SELECT * FROM order_lines WHERE {inside}"
    tables = {**(_ROLLUPS if rollups else {}), **SUMMARIES}
    _key_lines_before(con, spans)
    for table, column in tables.items():
        if spans is None:
            db.execute(con, f"DELETE FROM {table}")
        else:
            dates: dict = {}
            db.execute(con, f"DELETE FROM {table} WHERE {_within(column, spans, dates)}", dates)
    if rollups:
        db.execute(
            con,
            f"""
            INSERT INTO sales_daily
            SELECT o.order_date, o.country_code, o.currency_code, o.channel, p.product_line,
                   sum(o.quantity), sum(o.net_amount_local), sum(o.net_amount_eur),
                   coalesce(sum(o.quantity * o.unit_cost_eur), 0), count(*),
                   {_known("net_amount_eur")}
            FROM ({lines}) o JOIN products p USING (product_id)
            GROUP BY ALL
            ORDER BY o.order_date
            """,
            bound,
        )
        # An order's date, country, currency and channel are taken from its first line, so
        # that an order whose lines disagree (possible in imported files) is counted once.
        # Its lines all lie in `spans` (refresh takes every month of a touched order).
        db.execute(
            con,
            f"""
            INSERT INTO orders_daily
            WITH orders AS (
                SELECT o.order_id,
                       arg_min(o.order_date, o.line_no) AS order_date,
                       arg_min(o.country_code, o.line_no) AS country_code,
                       arg_min(o.currency_code, o.line_no) AS currency_code,
                       arg_min(o.channel, o.line_no) AS channel,
                       list_sort(list_distinct(list(p.product_line))) AS product_lines
                FROM ({lines}) o JOIN products p USING (product_id)
                GROUP BY o.order_id
            )
            SELECT order_date, country_code, currency_code, channel, product_lines, count(*)
            FROM orders GROUP BY ALL ORDER BY order_date
            """,
            bound,
        )
        _insert_sales_monthly(con, lines, bound)
    db.execute(
        con,
        f"""
        INSERT INTO account_monthly
        SELECT CAST(date_trunc('month', o.order_date) AS DATE) AS month, o.customer_id,
               o.country_code, o.currency_code, o.channel, p.product_line,
               sum(o.quantity), sum(o.net_amount_local), sum(o.net_amount_eur),
               coalesce(sum(o.quantity * o.unit_cost_eur), 0), count(*),
               {_known("net_amount_local")}, {_known("net_amount_eur")}
        FROM ({lines}) o LEFT JOIN products p USING (product_id)
        GROUP BY ALL ORDER BY month
        """,
        bound,
    )
    db.execute(
        con,
        f"""
        INSERT INTO item_monthly
        SELECT CAST(date_trunc('month', o.order_date) AS DATE) AS month, o.product_id,
               o.country_code, o.currency_code, o.channel,
               sum(o.quantity), sum(o.net_amount_local), sum(o.net_amount_eur),
               coalesce(sum(o.quantity * o.unit_cost_eur), 0),
               coalesce(sum(o.quantity) FILTER (WHERE o.quantity > 0), 0),
               coalesce(sum(o.net_amount_local) FILTER (WHERE o.quantity > 0), 0),
               coalesce(sum(o.quantity * o.unit_price_local) FILTER (WHERE o.quantity > 0), 0),
               count(*), {_known("net_amount_local")}, {_known("net_amount_eur")},
               coalesce(sum(o.quantity) FILTER (WHERE o.unit_cost_eur IS NOT NULL), 0)
        FROM ({lines}) o
        GROUP BY ALL ORDER BY month
        """,
        bound,
    )
    _insert_orders_monthly(con, spans)
    db.execute(
        con,
        f"INSERT INTO currency_daily SELECT order_date, currency_code, count(*) "
        f"FROM ({lines}) o GROUP BY ALL ORDER BY 1",
        bound,
    )
    _insert_rep_monthly(con, lines, bound)
    _key_lines_after(con, spans)
    # One row per (order, key) the order's lines fall into; an order with two is split.
    db.execute(
        con,
        f"""
        CREATE OR REPLACE TEMP TABLE order_keys AS
        SELECT o.order_id, CAST(date_trunc('month', o.order_date) AS DATE) AS month,
               o.customer_id, o.country_code, o.currency_code, o.channel,
               list_sort(list_distinct(list(p.product_line))) AS product_lines
        FROM ({lines}) o LEFT JOIN products p USING (product_id)
        GROUP BY ALL
        """,
        bound,
    )
    db.execute(
        con,
        """
        INSERT INTO account_orders_monthly
        SELECT month, customer_id, country_code, currency_code, channel, product_lines, count(*)
        FROM order_keys GROUP BY ALL ORDER BY month
        """,
    )
    if spans is None:
        db.execute(con, "DELETE FROM split_orders")
    else:
        # The orders of the spans are judged again below (all their lines are in them); a
        # split order whose lines were all removed is no longer stored.
        db.execute(
            con, "DELETE FROM split_orders WHERE order_id IN (SELECT order_id FROM order_keys)"
        )
        if db.query_rows(con, "SELECT count(*) FROM split_orders")[0][0]:
            db.execute(
                con,
                "DELETE FROM split_orders s WHERE NOT EXISTS "
                "(SELECT 1 FROM order_lines o WHERE o.order_id = s.order_id)",
            )
    db.execute(
        con,
        """
        INSERT INTO split_orders
        SELECT order_id FROM order_keys GROUP BY order_id HAVING count(*) > 1
        """,
    )
    db.execute(con, "DROP TABLE order_keys")
    _insert_reported(con, lines, bound, None)


# --- reported figures in the summary currencies ----------------------------------------


def rebuild_reported(
    con: duckdb.DuckDBPyConnection,
    months: Iterable[dt.date] | None,
    currencies: list[str],
    tables: Iterable[str] | None = None,
) -> None:
    """Delete the REPORTED rows of `currencies` for `months` (first days; None: every month)
    and insert them again from the order lines of those months: a rate of theirs changed, or
    they joined the summary currencies. `tables`: only these of REPORTED (a store upgraded
    to one more of them). Inside the caller's transaction."""
    tables = list(REPORTED) if tables is None else [t for t in REPORTED if t in set(tables)]
    if not currencies:
        return
    spans = None
    if months is not None:
        months = set(months)
        stored = db.query_rows(
            con, "SELECT count(DISTINCT date_trunc('month', order_date)) FROM sales_daily"
        )[0][0]
        # Nearly every month: deleting nearly every row month by month costs more.
        spans = None if len(months) > _FULL_SHARE * max(stored, 1) else _spans(months)
    for table in tables:
        column = REPORTED[table]
        bound: dict = {"currencies": list(currencies)}
        db.execute(
            con,
            f"DELETE FROM {table} WHERE list_contains($currencies, reporting_currency) "
            f"AND {_within(column, spans, bound)}",
            bound,
        )
    bound = {}
    lines = f"SELECT * FROM order_lines WHERE {_within('order_date', spans, bound)}"
    _insert_reported(con, lines, bound, list(currencies), tables)


def _insert_reported(
    con: duckdb.DuckDBPyConnection,
    lines: str,
    bound: dict,
    currencies: list[str] | None,
    tables: Iterable[str] | None = None,
) -> None:
    """Insert the REPORTED rows of the lines `lines` selects, for `currencies` (None: every
    summary currency): account_monthly's and item_monthly's grain and sums, plus each line's
    EUR amount and cost at its order date's rate, summed. A line on a day without that rate
    is left out, as the line-level figure leaves it out. One currency at a time (a full
    rebuild's groups are as many as the summary's, not that many per currency at once), so
    the rows lie in (currency, month) order. `tables`: only these of REPORTED."""
    tables = set(REPORTED if tables is None else tables)
    if currencies is None:
        currencies = [
            r[0]
            for r in db.query_rows(con, "SELECT currency_code FROM summary_currencies ORDER BY 1")
        ]
    for currency in currencies:
        _insert_reported_currency(con, lines, bound | {"reported_currency": currency}, tables)


def _insert_reported_currency(
    con: duckdb.DuckDBPyConnection, lines: str, bound: dict, tables: set[str]
) -> None:
    rate = (
        "JOIN (SELECT rate_date, currency_code, units_per_eur FROM fx_daily "
        "WHERE currency_code = $reported_currency) f ON f.rate_date = o.order_date"
    )
    reported = (
        "sum(o.net_amount_eur * f.units_per_eur), "
        f"{_known('net_amount_eur * f.units_per_eur')}, "
        "coalesce(sum(o.quantity * o.unit_cost_eur * f.units_per_eur), 0)"
    )
    if "sales_monthly_reported" in tables:
        # sales_monthly's grain and sums (an unknown product drops out by the join, as
        # there), over the lines with that day's rate: the lines sales_daily's rate join
        # keeps, so a month's row sums what its days' rows give converted.
        db.execute(
            con,
            f"""
            INSERT INTO sales_monthly_reported
            SELECT f.currency_code, CAST(date_trunc('month', o.order_date) AS DATE) AS month,
                   o.country_code, o.currency_code, o.channel, p.product_line,
                   sum(o.quantity), sum(o.net_amount_local), sum(o.net_amount_eur),
                   coalesce(sum(o.quantity * o.unit_cost_eur), 0), count(*),
                   {_known("net_amount_eur")}, {_known("net_amount_local")}, {reported}
            FROM ({lines}) o JOIN products p USING (product_id) {rate}
            GROUP BY ALL ORDER BY month
            """,
            bound,
        )
    if "account_monthly_reported" in tables:
        db.execute(
            con,
            f"""
            INSERT INTO account_monthly_reported
            SELECT f.currency_code, CAST(date_trunc('month', o.order_date) AS DATE) AS month,
                   o.customer_id, o.country_code, o.currency_code, o.channel, p.product_line,
                   sum(o.quantity), sum(o.net_amount_local), sum(o.net_amount_eur),
                   coalesce(sum(o.quantity * o.unit_cost_eur), 0),
                   {_known("net_amount_local")}, {_known("net_amount_eur")}, {reported}
            FROM ({lines}) o LEFT JOIN products p USING (product_id) {rate}
            GROUP BY ALL ORDER BY month
            """,
            bound,
        )
    if "item_monthly_reported" in tables:
        db.execute(
            con,
            f"""
            INSERT INTO item_monthly_reported
            SELECT f.currency_code, CAST(date_trunc('month', o.order_date) AS DATE) AS month,
                   o.product_id, o.country_code, o.currency_code, o.channel,
                   sum(o.quantity), sum(o.net_amount_local), sum(o.net_amount_eur),
                   coalesce(sum(o.quantity * o.unit_cost_eur), 0),
                   coalesce(sum(o.quantity) FILTER (WHERE o.quantity > 0), 0),
                   coalesce(sum(o.net_amount_local) FILTER (WHERE o.quantity > 0), 0),
                   coalesce(sum(o.quantity * o.unit_price_local) FILTER (WHERE o.quantity > 0), 0),
                   {_known("net_amount_local")}, {_known("net_amount_eur")}, {reported}
            FROM ({lines}) o {rate}
            GROUP BY ALL ORDER BY month
            """,
            bound,
        )
