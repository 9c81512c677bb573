"""What a load would change: the file's rows as the tables hold them, compared with the
stored rows, and the pipeline snapshot an opportunities file makes.

Re-importing a file changes nothing: rows identical to stored ones count as loaded and are
left alone. An order line (or rate) stored with other values is a conflict; master data
stored with other values is an update.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from analytics import awaiting, db
from analytics.importer.kinds import KEYS, TABLE_COLUMNS, table_of
from analytics.importer.orders import order_rows


def target_rows(kind: str, valid: pd.DataFrame) -> pd.DataFrame:
    """The valid rows as the kind's table holds them: its column names, defaults filled
    in and empty optional values as NULL."""
    if kind == "orders":
        return order_rows(valid)
    if kind == "rates":
        return pd.DataFrame(
            {
                "rate_date": valid["rate_date"],
                "currency_code": valid["currency"],
                "units_per_eur": valid["units_per_eur"],
            }
        )
    renames = {"country": "country_code", "currency": "currency_code"}
    table = valid.rename(columns=renames)
    columns = TABLE_COLUMNS[kind]
    out = pd.DataFrame({c: table.get(c) for c in columns})
    if kind == "products":
        out["sku"] = out["sku"].where(out["sku"].notna() & (out["sku"] != ""), out["product_id"])
        out["category"] = out["category"].where(
            out["category"].notna() & (out["category"] != ""), out["product_line"]
        )
    for column in ("global_account_id", "manager_id", "valid_to"):
        if column in out:
            out[column] = out[column].replace("", None)
    for column in ("year", "population"):
        if column in out:
            out[column] = out[column].astype("int64")
    if kind == "plan_rates":  # no quarter: the rate is the whole year's (NULL)
        out["quarter"] = out["quarter"].astype("Int64")
    return out


def compare_with_store(con, kind: str, rows: pd.DataFrame, table: str | None = None):
    """Per row: already stored identically; stored under its key with other values; and
    (master data) an update. Returns three boolean arrays. `table` is the kind's own table
    unless given (order lines awaiting a rate are compared with theirs)."""
    n = len(rows)
    if n == 0:
        empty = np.zeros(0, dtype=bool)
        return empty, empty, empty
    key = KEYS[kind]
    columns = list(rows.columns)
    table = db.identifier(table or table_of(kind), db.TABLES)
    con.register("incoming_rows", rows.assign(_i=np.arange(n)))
    try:
        same = " AND ".join(f"s.{c} IS NOT DISTINCT FROM i.{c}" for c in columns)
        # IS NOT DISTINCT FROM: a plan rate's quarter is NULL for the whole year.
        joined = " AND ".join(f"s.{c} IS NOT DISTINCT FROM i.{c}" for c in key)
        found = db.query(
            con,
            f"SELECT i._i, ({same}) AS identical FROM incoming_rows i JOIN {table} s ON {joined}",
        )
    finally:
        con.unregister("incoming_rows")
    stored = np.zeros(n, dtype=bool)
    identical = np.zeros(n, dtype=bool)
    stored[found["_i"].to_numpy()] = True
    identical[found["_i"].to_numpy()] = found["identical"].to_numpy(dtype=bool)
    conflicts = stored & ~identical
    return identical, conflicts, conflicts


def snapshot_rows(valid: pd.DataFrame) -> pd.DataFrame:
    """The open deals of an opportunities file as a pipeline snapshot.

    A CRM export is the pipeline as it stands: importing one each week builds the weekly
    snapshots that pipeline changes and forecast accuracy read. The day is the file's
    snapshot_date column, or the day of the import when the file has none."""
    today = dt.date.today()
    day = valid["snapshot_date"] if "snapshot_date" in valid else pd.Series(None, valid.index)
    day = day.map(lambda d: today if d is None or pd.isna(d) else d)
    open_deals = (valid["status"] == "open").to_numpy()
    rows = pd.DataFrame(
        {
            "snapshot_date": day,
            "opportunity_id": valid["opportunity_id"],
            "stage": valid["stage"],
            "amount_local": valid["amount_local"],
            "close_date": valid["close_date"],
            "forecast_category": valid["forecast_category"],
        }
    )
    return rows[open_deals].reset_index(drop=True)


def new_snapshot_rows(con, rows: pd.DataFrame) -> int:
    """How many snapshot rows are not yet stored with exactly these values."""
    if rows.empty:
        return 0
    con.register("incoming_snapshots", rows)
    try:
        return int(
            db.query_rows(
                con,
                """
            SELECT count(*) FROM incoming_snapshots i LEFT JOIN opportunity_snapshots s
              ON s.snapshot_date = i.snapshot_date AND s.opportunity_id = i.opportunity_id
             AND s.stage = i.stage AND s.amount_local = i.amount_local
             AND s.close_date = i.close_date AND s.forecast_category = i.forecast_category
            WHERE s.opportunity_id IS NULL
            """,
            )[0][0]
        )
    finally:
        con.unregister("incoming_snapshots")


def compare_order_lines(con, rows: pd.DataFrame, held: pd.DataFrame, no_cost=None):
    """Order lines with their EUR amounts (rows) and lines awaiting a rate (held), each
    compared with its own table; a key stored in the other table is a conflict too (a line
    is either converted or awaiting, never both). Returns (identical, conflict) per table.

    A line whose file gives no cost (`no_cost`, per row) takes the stored line's cost for
    the comparison: a cost filled in since (a standard cost, analytics.costs) or taken
    from the product's then latest cost is the store's, not a difference in the file."""
    if no_cost is not None and no_cost.any():
        rows = _stored_costs(con, rows, no_cost)
    same, conflict, _ = compare_with_store(con, "orders", rows)
    none = np.zeros(len(held), dtype=bool)
    if not awaiting.exists(con):  # a store made before the table: nothing is held
        return (same, conflict), (none, none | _key_stored(con, held, "order_lines"))
    held_same, held_conflict, _ = compare_with_store(con, "orders", held, awaiting.TABLE)
    conflict |= _key_stored(con, rows, awaiting.TABLE)
    held_conflict |= _key_stored(con, held, "order_lines")
    return (same, conflict), (held_same, held_conflict)


def _stored_costs(con, rows: pd.DataFrame, no_cost: np.ndarray) -> pd.DataFrame:
    """rows with the stored unit cost on the lines without a cost of their own that are
    stored under their key."""
    keys = rows.loc[no_cost, ["order_id", "line_no"]].assign(_i=np.flatnonzero(no_cost))
    con.register("incoming_keys", keys)
    try:
        found = db.query(
            con,
            "SELECT i._i, s.unit_cost_eur FROM incoming_keys i JOIN order_lines s "
            "ON s.order_id = i.order_id AND s.line_no = i.line_no",
        )
    finally:
        con.unregister("incoming_keys")
    if found.empty:
        return rows
    rows = rows.copy()
    position = rows.columns.get_loc("unit_cost_eur")
    rows.iloc[found["_i"].to_numpy(), position] = found["unit_cost_eur"].to_numpy()
    return rows


def _key_stored(con, rows: pd.DataFrame, table: str) -> np.ndarray:
    if rows.empty:
        return np.zeros(0, dtype=bool)
    con.register("incoming_keys", rows[["order_id", "line_no"]].assign(_i=np.arange(len(rows))))
    try:
        found = db.query(
            con,
            f"SELECT i._i FROM incoming_keys i JOIN {db.identifier(table)} s "
            "ON s.order_id = i.order_id AND s.line_no = i.line_no",
        )
    finally:
        con.unregister("incoming_keys")
    stored = np.zeros(len(rows), dtype=bool)
    stored[found["_i"].to_numpy()] = True
    return stored
