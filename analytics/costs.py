"""Standard product costs: the unit cost of order lines whose file gave none.

A product cost import (kind product_costs) stores, per product, a standard cost from a
date in a stated currency. An order line without a known unit cost then takes the
standard cost valid on its order date (the latest one from on or before it), converted at
that date's ECB rate: unit_cost_eur = standard_cost / units_per_eur[currency, order date]
(EUR at 1). A line whose cost currency has no rate on its day keeps an unknown cost.

Lines costed this way are listed in product_cost_lines, so that a corrected cost file
(the same product and date, another cost) corrects them too, while a cost the order file
gave is never overwritten. `apply` runs inside the transaction of every load that can
change the outcome — a product cost import, an orders import, lines converted when their
rates arrive — before the rollups are rebuilt, so margins and their coverage follow.
"""

from __future__ import annotations

import duckdb

from analytics import db, rollups

# Each line the standard costs apply to: no known cost, or a standard cost already; the
# cost valid on its day (ASOF: the latest valid_from on or before it), in EUR that day.
_COSTED = """
SELECT o.order_id, o.line_no, o.unit_cost_eur AS stored,
       c.standard_cost / CASE WHEN c.currency_code = 'EUR' THEN 1.0 ELSE f.units_per_eur END
           AS cost
FROM order_lines o
ASOF JOIN product_costs c ON c.product_id = o.product_id AND o.order_date >= c.valid_from
LEFT JOIN fx_daily f ON f.rate_date = o.order_date AND f.currency_code = c.currency_code
WHERE o.unit_cost_eur IS NULL
   OR EXISTS (SELECT 1 FROM product_cost_lines t
              WHERE t.order_id = o.order_id AND t.line_no = o.line_no)
"""


def _stored(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the store has the two tables (a store from before them has not, until its
    upgrade)."""
    return (
        db.query_rows(
            con,
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' "
            "AND table_name IN ('product_costs', 'product_cost_lines')",
        )[0][0]
        == 2
    )


def costed_products(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The products with a standard cost: an order line of one without a cost of its own
    takes it (at load, `apply`), rather than the product's latest cost on another line."""
    if not _stored(con):
        return set()
    return {r[0] for r in db.query_rows(con, "SELECT DISTINCT product_id FROM product_costs")}


def apply(con: duckdb.DuckDBPyConnection) -> int:
    """Give the lines their standard cost (see the module docstring); inside the caller's
    transaction, before the rollups are rebuilt. Returns the lines whose cost changed."""
    if not _stored(con) or not db.query_rows(con, "SELECT count(*) FROM product_costs")[0][0]:
        return 0
    db.execute(
        con,
        f"CREATE OR REPLACE TEMP TABLE costed_lines AS SELECT * FROM ({_COSTED}) "
        "WHERE cost IS NOT NULL",
    )
    try:
        changed = db.query_rows(
            con, "SELECT count(*) FROM costed_lines WHERE stored IS DISTINCT FROM cost"
        )[0][0]
        if changed:
            rollups.touch(  # their months, for the rollups the caller refreshes
                con,
                "SELECT o.order_date FROM order_lines o JOIN costed_lines k "
                "USING (order_id, line_no) WHERE k.stored IS DISTINCT FROM k.cost",
            )
            db.execute(
                con,
                """
                UPDATE order_lines o SET unit_cost_eur = k.cost FROM costed_lines k
                WHERE o.order_id = k.order_id AND o.line_no = k.line_no
                  AND k.stored IS DISTINCT FROM k.cost
                """,
            )
        db.execute(
            con,
            "INSERT INTO product_cost_lines SELECT order_id, line_no FROM costed_lines "
            "ON CONFLICT DO NOTHING",
        )
        return int(changed)
    finally:
        db.execute(con, "DROP TABLE IF EXISTS costed_lines")


def forget_removed_lines(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the listing of lines no longer stored (an undone import), so that a line
    imported again under the same key with its own cost keeps it."""
    if not _stored(con):
        return
    db.execute(
        con,
        "DELETE FROM product_cost_lines t WHERE NOT EXISTS (SELECT 1 FROM order_lines o "
        "WHERE o.order_id = t.order_id AND o.line_no = t.line_no)",
    )
