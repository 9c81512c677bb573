"""Creating a store: the schema, the reference data and the derived tables."""

from __future__ import annotations

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


def needs_upgrade(path) -> bool:
    """Whether a store made by an earlier version lacks the monthly summaries."""
    with db.connect(path, read_only=True) as con:
        present = {
            name
            for (name,) in db.query_rows(
                con, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
            )
        }
    return not set(rollups.SUMMARIES) <= present


def upgrade(path) -> bool:
    """Bring a store made by an earlier version up to this one's schema: the tables added
    since (every CREATE is IF NOT EXISTS) and the monthly summaries filled from the order
    lines, in one transaction. Returns whether anything was done."""
    if not needs_upgrade(path):
        return False
    with db.connect(path) as con, db.transaction(con):
        create_schema(con)
        rollups.rebuild_summaries(con)
    return True
