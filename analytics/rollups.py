"""Rebuilding the tables derived from order_lines (run inside the same transaction as a load).

sales_daily and orders_daily serve the region, country, product-line and channel figures.
The summaries below serve the figures that used to read order_lines over a date window
(issue 19). Their grain, and why each figure read from them stays exact:

- account_monthly: month x customer x rep x country x currency x channel x product line,
  with units, local, EUR and cost sums. Monthly, not daily: a customer x day grain is
  nearly as large as the lines (2.7M rows for 10M lines), while customers x months stops
  growing once customers order every month, so the table's size follows the customer base
  and the calendar, not the line count. What a month can give exactly:
    * EUR reported figures (the EUR amount was converted at the line's day rate at load);
    * constant-currency figures in any reporting currency (monthly local sums x the base
      period's average rate, which is one number per currency);
    * distinct customers over any set of whole months (the rows are per-month distinct
      sets: a customer is active in a window iff it has a row in one of its months).
  What it cannot give: a reported figure in another currency, sum(net_eur x rate[day]),
  needs the day. Storing a monthly sum per reporting currency would multiply the table by
  ~40 currencies, so those figures keep reading order_lines (analytics.sales.summary_months
  returns no months for them).
- account_orders_monthly: orders per customer and month, keyed also by country, currency,
  channel and the set of product lines the order holds (as orders_daily), so a product-line
  filter counts each order once. Summing counts is exact because an order lies in one key;
  the rare imported order that does not is listed in split_orders, and then order counts per
  account read order_lines.
- item_monthly: month x product x country x currency x channel (the bridge's items), with
  positive-quantity sums for the price position.
- currency_daily: lines per day and currency (coverage and lines without a rate).

A window that does not cover whole months reads its partial months from order_lines, which
is kept in date order, so that part costs at most two months' lines whatever the history.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from analytics import db

# Tables rebuilt from order_lines, each with its month (or day) column.
SUMMARIES = {
    "account_monthly": "month",
    "account_orders_monthly": "month",
    "item_monthly": "month",
    "currency_daily": "order_date",
}


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


def rebuild_sales_rollups(con: duckdb.DuckDBPyConnection, since: dt.date | None = None) -> None:
    """Rebuild sales_daily and orders_daily from order_lines, in date order, and the summaries.

    With `since` (the first order date a load added, when every stored line before that
    month is unchanged), the summaries keep their months before it and rebuild the rest.
    """
    db.execute(con, "DELETE FROM sales_daily")
    db.execute(
        con,
        f"""
        INSERT INTO sales_daily
        SELECT o.order_date, o.country_code, o.currency_code, o.channel, p.product_line,
               sum(o.quantity), sum(o.net_amount_local), sum(o.net_amount_eur),
               coalesce(sum(o.quantity * o.unit_cost_eur), 0), count(*),
               {_known("net_amount_eur")}
        FROM order_lines o JOIN products p USING (product_id)
        GROUP BY ALL
        ORDER BY o.order_date
        """,
    )
    # An order's date, country, currency and channel are taken from its first line, so that
    # an order whose lines disagree (possible in imported files) is still counted once.
    db.execute(con, "DELETE FROM orders_daily")
    db.execute(
        con,
        """
        INSERT INTO orders_daily
        WITH orders AS (
            SELECT o.order_id,
                   arg_min(o.order_date, o.line_no) AS order_date,
                   arg_min(o.country_code, o.line_no) AS country_code,
                   arg_min(o.currency_code, o.line_no) AS currency_code,
                   arg_min(o.channel, o.line_no) AS channel,
                   list_sort(list_distinct(list(p.product_line))) AS product_lines
            FROM order_lines o JOIN products p USING (product_id)
            GROUP BY o.order_id
        )
        SELECT order_date, country_code, currency_code, channel, product_lines, count(*)
        FROM orders GROUP BY ALL ORDER BY order_date
        """,
    )
    rebuild_summaries(con, since)


def rebuild_summaries(con: duckdb.DuckDBPyConnection, since: dt.date | None = None) -> None:
    """Rebuild account_monthly, account_orders_monthly, split_orders, item_monthly and
    currency_daily from order_lines, from the month of `since` on (all of it when None)."""
    start = dt.date(1, 1, 1) if since is None else since.replace(day=1)
    for table, column in SUMMARIES.items():
        db.execute(con, f"DELETE FROM {table} WHERE {column} >= $start", {"start": start})
    lines = "SELECT * FROM order_lines WHERE order_date >= $start"
    db.execute(
        con,
        f"""
        INSERT INTO account_monthly
        SELECT CAST(date_trunc('month', o.order_date) AS DATE) AS month, o.customer_id,
               o.rep_id, o.country_code, o.currency_code, o.channel, p.product_line,
               sum(o.quantity), sum(o.net_amount_local), sum(o.net_amount_eur),
               coalesce(sum(o.quantity * o.unit_cost_eur), 0), count(*),
               {_known("net_amount_local")}, {_known("net_amount_eur")}
        FROM ({lines}) o LEFT JOIN products p USING (product_id)
        GROUP BY ALL ORDER BY month
        """,
        {"start": start},
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
               count(*), {_known("net_amount_local")}, {_known("net_amount_eur")}
        FROM ({lines}) o
        GROUP BY ALL ORDER BY month
        """,
        {"start": start},
    )
    db.execute(
        con,
        f"""
        INSERT INTO currency_daily
        SELECT order_date, currency_code, count(*) FROM ({lines}) o GROUP BY ALL ORDER BY 1
        """,
        {"start": start},
    )
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
        {"start": start},
    )
    db.execute(
        con,
        """
        INSERT INTO account_orders_monthly
        SELECT month, customer_id, country_code, currency_code, channel, product_lines, count(*)
        FROM order_keys GROUP BY ALL ORDER BY month
        """,
    )
    # An order is split when it has two keys. With `since`, an order can also have a key
    # in the months kept, found among the earlier lines (splits found before stay listed).
    if since is None:
        db.execute(con, "DELETE FROM split_orders")
    db.execute(
        con,
        """
        INSERT INTO split_orders
        SELECT DISTINCT order_id FROM (
            SELECT order_id FROM order_keys GROUP BY order_id HAVING count(*) > 1
            UNION ALL
            SELECT order_id FROM order_keys
            SEMI JOIN (SELECT order_id FROM order_lines WHERE order_date < $start) USING (order_id)
        )
        WHERE order_id NOT IN (SELECT order_id FROM split_orders)
        """,
        {"start": start},
    )
    db.execute(con, "DROP TABLE order_keys")
