"""Creating a store: the schema, the reference data and the derived tables."""

from __future__ import annotations

import re
from importlib import resources

import duckdb

from analytics import db, fx, reference, rollups


def create_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create every table of the data contract (a no-op for tables that exist)."""
    con.execute(resources.files("analytics").joinpath("schema.sql").read_text(encoding="utf-8"))


def init_reference_data(con: duckdb.DuckDBPyConnection) -> None:
    """Countries and the bundled ECB rate history, with the daily rate table built from it."""
    frame = reference.countries_frame()
    con.register("reference_countries", frame)
    try:
        db.execute(
            con,
            """
            INSERT INTO countries SELECT country_code, iso3, name, region, subregion, currency_code
            FROM reference_countries ON CONFLICT (country_code) DO NOTHING
            """,
        )
    finally:
        con.unregister("reference_countries")
    fx.load_ecb_history(con)
    fx.rebuild_fx_daily(con)


def _table_definition(table: str) -> str:
    """The CREATE TABLE statement of `table` in this version's schema."""
    schema = resources.files("analytics").joinpath("schema.sql").read_text(encoding="utf-8")
    match = re.search(rf"CREATE TABLE IF NOT EXISTS {table} \(.*?\n\);", schema, flags=re.DOTALL)
    if match is None:
        raise ValueError(f"No table {table!r} in schema.sql")
    return match.group(0)


# Tables rebuilt whole from order_lines, each with the column its last schema change added:
# one without it was made by an earlier version.
_DERIVED_COLUMNS = {
    "sales_daily": "known_cost_net_eur",
    "account_monthly": "known_cost_net_eur",
    "item_monthly": "known_cost_net_eur",
}
# Tables whose CHECK on a column must allow 'unassigned' (the importer's value for a line
# or customer without a channel or segment); DuckDB cannot alter a CHECK.
_UNASSIGNED_CHECKS = {"order_lines": "channel", "customers": "segment"}
# Tables of the contract added since the first release, which upgrade creates (empty).
_ADDED_TABLES = ("plan_rates",)


def pending_upgrades(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """What a store made by an earlier version lacks: {"recreate": tables whose CHECK lacks
    'unassigned', "nullable": order_lines.unit_cost_eur still NOT NULL, "rebuild": derived
    tables missing or without their newest column, "create": contract tables added since
    (e.g. plan_rates)}. Empty lists: nothing to do."""
    columns = {
        (table, column): nullable
        for table, column, nullable in db.query_rows(
            con,
            "SELECT table_name, column_name, is_nullable FROM information_schema.columns "
            "WHERE table_schema = 'main'",
        )
    }
    tables = {table for table, _ in columns}
    checks = db.query_rows(
        con,
        "SELECT table_name, expression FROM duckdb_constraints() "
        "WHERE schema_name = 'main' AND constraint_type = 'CHECK'",
    )
    recreate = sorted(
        table
        for table, column in _UNASSIGNED_CHECKS.items()
        if any(t == table and column in expr and "'unassigned'" not in expr for t, expr in checks)
    )
    nullable = (
        ["order_lines"]
        if columns.get(("order_lines", "unit_cost_eur")) == "NO" and "order_lines" not in recreate
        else []
    )
    rebuild = sorted(
        table
        for table in {*rollups.SUMMARIES, "split_orders", *_DERIVED_COLUMNS}
        if table not in tables
        or (table in _DERIVED_COLUMNS and (table, _DERIVED_COLUMNS[table]) not in columns)
    )
    create = [table for table in _ADDED_TABLES if table not in tables]
    return {"recreate": recreate, "nullable": nullable, "rebuild": rebuild, "create": create}


def needs_upgrade(path) -> bool:
    """Whether a store made by an earlier version needs `upgrade`."""
    with db.connect(path, read_only=True) as con:
        return any(pending_upgrades(con).values())


def upgrade(path) -> bool:
    """Bring a store made by an earlier version up to this one's schema, in one transaction:
    order_lines.unit_cost_eur nullable; order_lines and customers recreated where their CHECK
    lacks 'unassigned' (rows copied, order lines in date order, the order later reads rely
    on); derived tables missing or without their newest column dropped, created and filled
    from the order lines; the tables added since (plan_rates) created empty (every CREATE
    is IF NOT EXISTS).
    Returns whether anything was done."""
    with db.connect(path) as con:
        pending = pending_upgrades(con)
        if not any(pending.values()):
            return False
        with db.transaction(con):
            for table in pending["recreate"]:
                staged = f"{table}__upgrade"
                db.execute(con, _table_definition(table).replace(f" {table} (", f" {staged} (", 1))
                order = " ORDER BY order_date" if table == "order_lines" else ""
                db.execute(con, f"INSERT INTO {staged} SELECT * FROM {table}{order}")
                db.execute(con, f"DROP TABLE {table}")
                db.execute(con, f"ALTER TABLE {staged} RENAME TO {table}")
            if pending["nullable"]:
                db.execute(con, "ALTER TABLE order_lines ALTER COLUMN unit_cost_eur DROP NOT NULL")
            for table in pending["rebuild"]:
                db.execute(con, f"DROP TABLE IF EXISTS {table}")
            create_schema(con)
            if "sales_daily" in pending["rebuild"]:
                rollups.rebuild_sales_rollups(con)
            elif pending["rebuild"]:
                rollups.rebuild_summaries(con)
    return True
