"""Order lines awaiting a rate: kept when imported, left out of converted figures, named in
captions, and converted when the rates arrive.

A line whose currency (or unit cost's currency) has no usable ECB rate on its order date —
a currency the store has no rates for yet, or a day after the last stored rate — cannot
carry the EUR amount every figure is built on. Such lines are held in a table of their own,
order_lines_awaiting_rate, rather than in order_lines with a NULL EUR amount:

- every figure reads order_lines or the rollups built from it (units, line and order
  counts, local sums for constant currency, distinct customers, …); with the held lines in
  a table of their own, "left out of converted figures" holds by construction in every one
  of those queries, instead of each of them having to skip NULL amounts — a count or a
  local sum that forgot to would silently mix unconverted lines in;
- order_lines keeps its contract (net_amount_eur NOT NULL, physically in date order), so
  no reader and no stored file changes;
- the held lines are few (a file's days past the last rate), so counting them for a
  caption is one small query over this table, under the same filters as the figure.

A held line keeps the file's values and its unit cost as given (in its stated currency,
or EUR), so that converting it later gives exactly what importing it with the rates
stored would have: net_amount_local / units_per_eur and unit_cost / units_per_eur of its
order date. `release` does that inside the transaction that stores new rates (a rates
import, fx-update), moves the lines to order_lines and rebuilds the rollups with them.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from analytics import costs, db, rollups, store
from analytics.filters import Filters, dimension_conditions

TABLE = "order_lines_awaiting_rate"
# The order_lines columns a held line keeps as imported (every one but the EUR amounts).
COLUMNS = (
    "order_id",
    "line_no",
    "order_date",
    "customer_id",
    "product_id",
    "rep_id",
    "country_code",
    "channel",
    "currency_code",
    "quantity",
    "unit_price_local",
    "discount_pct",
    "net_amount_local",
)


def ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    """The table, in a store made before it was part of the schema (writers call this)."""
    db.execute(con, store._table_definition(TABLE))  # as schema.sql has it


def exists(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(
        db.query_rows(
            con,
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = ?",
            [TABLE],
        )[0][0]
    )


def count(con: duckdb.DuckDBPyConnection) -> int:
    if not exists(con):
        return 0
    return int(db.query_rows(con, f"SELECT count(*) FROM {TABLE}")[0][0])


def hold(con: duckdb.DuckDBPyConnection, rows: pd.DataFrame) -> None:
    """Insert held lines (COLUMNS plus unit_cost and cost_currency); inside a transaction."""
    if rows.empty:
        return
    ensure_table(con)
    columns = [*COLUMNS, "unit_cost", "cost_currency"]
    con.register("held_lines", rows[columns])
    try:
        names = ", ".join(db.identifier(c, frozenset(columns)) for c in columns)
        db.execute(con, f"INSERT INTO {TABLE} ({names}) SELECT {names} FROM held_lines")
    finally:
        con.unregister("held_lines")


# A held line's rates on its order date (fx_daily: DESIGN's rule, EUR 1 on every day it
# spans; a EUR amount needs no rate on any day). The line converts once both are there.
_RATED = f"""
    SELECT a.*,
           CASE WHEN a.currency_code = 'EUR' THEN 1.0 ELSE f.units_per_eur END AS rate,
           CASE WHEN a.unit_cost IS NULL OR a.cost_currency = 'EUR' THEN 1.0
                ELSE c.units_per_eur END AS cost_rate
    FROM {TABLE} a
    LEFT JOIN fx_daily f ON f.rate_date = a.order_date AND f.currency_code = a.currency_code
    LEFT JOIN fx_daily c ON c.rate_date = a.order_date AND c.currency_code = a.cost_currency
"""


def release(con: duckdb.DuckDBPyConnection) -> int:
    """Convert the held lines that now have their rates: into order_lines (kept in date
    order) with their EUR amounts, out of the held table, rollups rebuilt. Call inside the
    transaction that stored the rates (after fx_daily is rebuilt). Returns lines converted."""
    if not exists(con):
        return 0
    db.execute(
        con,
        f"CREATE OR REPLACE TEMP TABLE released_lines AS SELECT * FROM ({_RATED}) "
        "WHERE rate IS NOT NULL AND cost_rate IS NOT NULL",
    )
    try:
        released = db.query_rows(con, "SELECT count(*), min(order_date) FROM released_lines")[0]
        if not released[0]:
            return 0
        latest = db.query_rows(con, "SELECT max(order_date) FROM order_lines")[0][0]
        names = ", ".join(COLUMNS)
        # The same divisions the importer makes, so a line converts to the very amounts it
        # would have had if the rates had been stored when it was imported.
        db.execute(
            con,
            f"""
            INSERT INTO order_lines ({names}, net_amount_eur, unit_cost_eur)
            SELECT {names}, net_amount_local / rate, unit_cost / cost_rate
            FROM released_lines ORDER BY order_date, order_id, line_no
            """,
        )
        db.execute(
            con,
            f"DELETE FROM {TABLE} a WHERE EXISTS (SELECT 1 FROM released_lines r "
            "WHERE r.order_id = a.order_id AND r.line_no = a.line_no)",
        )
        if latest is not None and released[1] < latest:
            rollups.sort_order_lines(con)
        rollups.touch(con, "SELECT order_date FROM released_lines")
        costs.apply(con)  # a released line without a cost takes its product's standard cost
        rollups.refresh(con)
        return int(released[0])
    finally:
        db.execute(con, "DROP TABLE IF EXISTS released_lines")


def summary(
    con: duckdb.DuckDBPyConnection,
    filters: Filters | None = None,
    ranges: list[tuple[dt.date, dt.date]] | None = None,
) -> pd.DataFrame:
    """Held lines per currency: lines, local amount, first and last order date, and why
    (the rate missing). Grain: one row per currency. `filters` narrows by its dimensions and
    `ranges` by order date (a figure's periods), so a caption names only the lines that
    figure would include."""
    empty = pd.DataFrame(columns=["currency_code", "lines", "amount_local", "first", "last"])
    if not exists(con):
        return empty
    conditions, params = (
        dimension_conditions(filters, alias="a.", product_line="product_id")
        if filters
        else ([], {})
    )
    if ranges:
        spans = []
        for i, (start, end) in enumerate(ranges):
            spans.append(f"a.order_date BETWEEN $start_{i} AND $end_{i}")
            params |= {f"start_{i}": start, f"end_{i}": end}
        conditions.append("(" + " OR ".join(spans) + ")")
    where = " AND ".join(conditions) or "true"
    return db.query(
        con,
        f"""
        SELECT a.currency_code, count(*) AS lines, sum(a.net_amount_local) AS amount_local,
               min(a.order_date) AS first, max(a.order_date) AS last
        FROM {TABLE} a WHERE {where}
        GROUP BY 1 ORDER BY 1
        """,
        params,
    )


FIX = "fetch newer rates or import a rates file on the Data page to convert them"


def describe(held: pd.DataFrame) -> str | None:
    """One sentence naming the held lines of a figure (None when there are none): count,
    amount in local currency per currency, and the period they span."""
    if held is None or held.empty:
        return None
    lines = int(held["lines"].sum())
    parts = [
        f"{row.currency_code} {row.amount_local:,.2f} ({_span(row.first, row.last)})"
        for row in held.itertuples()
    ]
    noun = "line" if lines == 1 else "lines"
    return (
        f"Not included: {lines:,} order {noun} awaiting an exchange rate — "
        f"{'; '.join(parts)}; {FIX}."
    )


def _span(first, last) -> str:
    first, last = pd.Timestamp(first).date(), pd.Timestamp(last).date()
    if first == last:
        return f"{first:%d %b %Y}"
    return f"{first:%d %b %Y} – {last:%d %b %Y}"
