"""Undoing an import: the order lines or rates one import added are removed again, with the
derived tables rebuilt in the same transaction, and import_log says it was undone.

A loaded orders or rates import records the keys of every row of its file that is stored
after it (imported_order_lines, imported_rates): the rows it inserted, and the rows that
were already stored identically. A stored order line or rate is never changed by a later
import (one with other values is rejected as a conflict), so undoing removes exactly the
rows the import added, as they were loaded. When a later import that is not undone holds
the same row (its file had the identical line), the row stays and passes to that import:
the store keeps what the remaining imports hold. A re-import that changed nothing at all
loads nothing and records nothing, so it holds no row.

Customers, products and reps an order file created are kept: other data may point at
them. Master-data imports (customers, prices, quotas, …) update rows in place and keep no
earlier values, so they are corrected by importing the corrected file, not undone.
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from analytics import awaiting, costs, db, fx, rollups
from analytics.errors import UserError

UNDOABLE = {
    "orders": ("imported_order_lines", "order_lines", ("order_id", "line_no")),
    "rates": ("imported_rates", "fx_rates", ("rate_date", "currency_code")),
}

_TABLES = """
CREATE TABLE IF NOT EXISTS imported_order_lines (
    import_id VARCHAR NOT NULL, order_id VARCHAR NOT NULL, line_no INTEGER NOT NULL,
    inserted BOOLEAN NOT NULL);
CREATE TABLE IF NOT EXISTS imported_rates (
    import_id VARCHAR NOT NULL, rate_date DATE NOT NULL, currency_code VARCHAR NOT NULL,
    inserted BOOLEAN NOT NULL);
"""


class UndoRefused(UserError, ValueError):
    """The import cannot be undone; the message says why and what to do instead."""


@dataclasses.dataclass(frozen=True)
class UndoResult:
    import_id: str
    kind: str
    file_name: str
    removed: int
    kept: int  # rows a later import also holds, left in place
    message: str


def ensure_tables(con) -> None:
    """The two tables, in a store created before they were part of the schema."""
    db.execute(con, _TABLES)


def record(con, kind: str, import_id: str, held: pd.DataFrame) -> None:
    """Record the keys of the rows an import holds (inside the load's transaction)."""
    if kind not in UNDOABLE or held.empty:
        return
    table, _, key = UNDOABLE[kind]
    rows = pd.DataFrame({"import_id": import_id, **{c: held[c] for c in key}})
    rows["inserted"] = held["_inserted"].to_numpy(dtype=bool)
    con.register("held_rows", rows)
    try:
        columns = ", ".join(db.identifier(c, frozenset(rows.columns)) for c in rows.columns)
        db.execute(
            con,
            f"INSERT INTO {db.identifier(table)} ({columns}) SELECT {columns} FROM held_rows",
        )
    finally:
        con.unregister("held_rows")


def undo_import(con, import_id: str) -> UndoResult:
    """Remove the rows an import added, rebuild the derived tables, mark it undone."""
    found = db.query_rows(
        con, "SELECT kind, file_name, status FROM import_log WHERE import_id = ?", [import_id]
    )
    if not found:
        raise UndoRefused(f"No import has the id {import_id!r}; import_log lists the ids.")
    kind, file_name, status = found[0]
    if status == "undone":
        raise UndoRefused(f"Import {import_id} ({file_name}) is already undone.")
    if status != "loaded":
        raise UndoRefused(
            f"Import {import_id} ({file_name}) loaded nothing (its status is {status}): "
            "there is nothing to undo."
        )
    if kind not in UNDOABLE:
        raise UndoRefused(
            f"Import {import_id} ({file_name}) is {kind}: master data is updated in place "
            "and earlier values are not kept, so it cannot be undone. Import the corrected "
            "file instead; it replaces the stored values."
        )
    ensure_tables(con)
    table, target, key = UNDOABLE[kind]
    log, stored = db.identifier(table), db.identifier(target)

    def same(a: str, b: str) -> str:
        return " AND ".join(f"{a}.{c} = {b}.{c}" for c in key)

    # h: this import's rows; o: another (loaded: undone imports leave no rows) import's.
    elsewhere = f"EXISTS (SELECT 1 FROM {log} o WHERE o.import_id <> $id AND {same('o', 'h')})"
    mine = f"SELECT 1 FROM {log} h WHERE h.import_id = $id AND h.inserted"
    params = {"id": import_id}
    with db.transaction(con):
        kept = db.query_rows(con, f"SELECT count(*) FROM ({mine} AND {elsewhere})", params)[0][0]
        # Rows another import holds too pass to it: it now counts as having added them.
        db.execute(
            con,
            f"UPDATE {log} o SET inserted = true WHERE o.import_id <> $id AND NOT o.inserted "
            f"AND EXISTS ({mine} AND {same('h', 'o')})",
            params,
        )
        gone = f"EXISTS ({mine} AND {same('h', 's')} AND NOT {elsewhere})"
        removed = db.query_rows(con, f"SELECT count(*) FROM {stored} s WHERE {gone}", params)[0][0]
        if kind == "orders":  # the months of the orders losing lines, for the rollups
            rollups.touch_orders(con, f"SELECT order_id FROM {stored} s WHERE {gone}", params)
        db.execute(con, f"DELETE FROM {stored} s WHERE {gone}", params)
        if kind == "orders" and awaiting.exists(con):
            # Its lines still awaiting a rate go too (they are held apart, analytics.awaiting).
            held = db.identifier(awaiting.TABLE)
            removed += db.query_rows(con, f"SELECT count(*) FROM {held} s WHERE {gone}", params)[0][
                0
            ]
            db.execute(con, f"DELETE FROM {held} s WHERE {gone}", params)
        db.execute(con, f"DELETE FROM {log} WHERE import_id = $id", params)
        db.execute(con, "UPDATE import_log SET status = 'undone' WHERE import_id = $id", params)
        if kind == "orders":
            costs.forget_removed_lines(con)
            rollups.refresh(con)
        else:
            fx.rebuild_fx_daily(con)
    what = "order lines" if kind == "orders" else "rates"
    message = f"Undid import {import_id} ({file_name}): removed {removed:,} {what}."
    if kept:
        message += f" {kept:,} {what} stay: a later import holds them too."
    if kind == "orders":
        message += " Customers, products and reps it created are kept."
    return UndoResult(import_id, kind, file_name, removed, kept, message)
