"""Rebuilding the rollups derived from order_lines (run inside the same transaction as a load)."""

from __future__ import annotations

import duckdb

from analytics import db


def rebuild_sales_rollups(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild sales_daily and orders_daily from order_lines, in date order."""
    db.execute(con, "DELETE FROM sales_daily")
    db.execute(
        con,
        """
        INSERT INTO sales_daily
        SELECT o.order_date, o.country_code, o.currency_code, o.channel, p.product_line,
               sum(o.quantity), sum(o.net_amount_local), sum(o.net_amount_eur),
               coalesce(sum(o.quantity * o.unit_cost_eur), 0), count(*),
               coalesce(sum(o.net_amount_eur) FILTER (WHERE o.unit_cost_eur IS NOT NULL), 0)
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
