"""Data-quality summary of the store: what the data covers and what does not join up.

The order-line figures read the summaries (analytics.rollups) rather than the lines: every
line is counted in currency_daily (day x currency), key_lines (its customer and its product,
all months together) and rep_monthly (its rep), so the counts are the lines' own, without
four full scans of order_lines per visit, nor one of every customer-month.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from analytics import db

# (what, SQL counting the rows of a child table whose key has no parent row)
ORPHAN_CHECKS = (
    (
        "Order lines with an unknown customer",
        "SELECT CAST(coalesce(sum(line_count), 0) AS BIGINT) FROM key_lines o "
        "ANTI JOIN customers c ON c.customer_id = o.key_id WHERE o.kind = 'customer'",
    ),
    (
        "Order lines with an unknown product",
        "SELECT CAST(coalesce(sum(line_count), 0) AS BIGINT) FROM key_lines o "
        "ANTI JOIN products p ON p.product_id = o.key_id WHERE o.kind = 'product'",
    ),
    (
        "Order lines with an unknown rep",
        "SELECT CAST(coalesce(sum(line_count), 0) AS BIGINT) FROM rep_monthly o "
        "WHERE o.rep_id IS NOT NULL AND o.rep_id NOT IN (SELECT rep_id FROM reps)",
    ),
    (
        "Opportunities with an unknown customer",
        "SELECT count(*) FROM opportunities o ANTI JOIN customers c USING (customer_id)",
    ),
    (
        "Opportunities with an unknown rep",
        "SELECT count(*) FROM opportunities o ANTI JOIN reps r USING (rep_id)",
    ),
    ("Quotas of an unknown rep", "SELECT count(*) FROM quotas q ANTI JOIN reps r USING (rep_id)"),
    (
        "Price-list rows of an unknown product",
        "SELECT count(*) FROM price_list p ANTI JOIN products USING (product_id)",
    ),
    (
        "Customers in an unknown country",
        "SELECT count(*) FROM customers c ANTI JOIN countries USING (country_code)",
    ),
)


def coverage(cur: duckdb.DuckDBPyConnection) -> dict:
    """Order lines: count, first and last date, and the business days (Monday to Friday) in
    between with no sales. Weekends are left out: a business that does not sell on Saturday
    and Sunday would otherwise show two gaps a week."""
    count, first, last, gap_days = db.query_rows(
        cur,
        """
        WITH span AS (SELECT CAST(coalesce(sum(line_count), 0) AS BIGINT) AS lines,
                             min(order_date) AS first, max(order_date) AS last
                      FROM currency_daily)
        SELECT lines, first, last,
               (SELECT count(*) FROM range(first, last + INTERVAL 1 DAY, INTERVAL 1 DAY) d(day)
                WHERE isodow(day) <= 5
                  AND day::DATE NOT IN (SELECT DISTINCT order_date FROM currency_daily))
        FROM span
        """,
    )[0]
    return {"lines": count, "first": first, "last": last, "days_without_sales": gap_days or 0}


def unconverted_lines(cur: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per currency, order lines on days with no usable ECB rate (they cannot be reported)."""
    return db.query(
        cur,
        """
        SELECT o.currency_code, CAST(sum(o.line_count) AS BIGINT) AS lines, min(o.order_date) AS first_day,
               max(o.order_date) AS last_day
        FROM currency_daily o
        ANTI JOIN fx_daily f ON f.rate_date = o.order_date AND f.currency_code = o.currency_code
        GROUP BY 1 ORDER BY 2 DESC
        """,
    )


def orphans(cur: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """How many rows of each kind point at a key that does not exist."""
    return pd.DataFrame(
        [(what, db.query_rows(cur, sql)[0][0]) for what, sql in ORPHAN_CHECKS],
        columns=["check", "rows"],
    )


def import_history(cur: duckdb.DuckDBPyConnection, limit: int = 200) -> pd.DataFrame:
    """The latest imports, newest first."""
    return db.query(
        cur,
        """
        SELECT started_at, kind, file_name, status, rows_read, rows_loaded, rows_rejected,
               left(sha256, 12) AS sha256
        FROM import_log ORDER BY started_at DESC LIMIT $limit
        """,
        {"limit": limit},
    )
