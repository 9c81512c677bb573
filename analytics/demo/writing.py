"""Writing a generated frame into one of the store's tables."""

from __future__ import annotations

import uuid

import duckdb
import pandas as pd

from analytics import db


def insert_frame(
    con: duckdb.DuckDBPyConnection,
    table: str,
    frame: pd.DataFrame,
    select: str = "*",
    params: list | None = None,
) -> None:
    """Insert a generated frame into a contract table (the table name is allow-listed)."""
    name = f"demo_{uuid.uuid4().hex}"
    con.register(name, frame)
    try:
        db.execute(con, f"INSERT INTO {db.identifier(table)} SELECT {select} FROM {name}", params)
    finally:
        con.unregister(name)
