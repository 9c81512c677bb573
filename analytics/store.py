"""Creating a store: the schema, the reference data and the derived tables."""

from __future__ import annotations

from importlib import resources

import duckdb

from analytics import db, fx, reference


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
