"""The one query gateway: connections, bound parameters, allow-listed identifiers, time limits.

Every SQL statement the app runs goes through `query` / `execute` here. Values are always
bound as parameters (`?` or `$name`); table and column names can only come from the
allow-lists below, via `identifier`. A statement that runs past its time limit is
interrupted and raises `QueryTimeout` instead of hanging the page.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from analytics.errors import UserError

DB_ENV_VAR = "SALES_ATLAS_DB"
DEFAULT_DB_PATH = Path(__file__).resolve().parent.parent / "data" / "sales_atlas.duckdb"
DEFAULT_TIME_LIMIT_S = 30.0

TABLES = frozenset(
    {
        "countries",
        "products",
        "global_accounts",
        "customers",
        "reps",
        "order_lines",
        "opportunities",
        "opportunity_snapshots",
        "activities",
        "quotas",
        "budgets",
        "price_list",
        "market_data",
        "fx_rates",
        "scenarios",
        "import_log",
        "fx_daily",
        "sales_daily",
        "orders_daily",
        "account_monthly",
        "account_orders_monthly",
        "split_orders",
        "item_monthly",
        "currency_daily",
    }
)

# Columns a caller may name in a filter or group-by, by the table they belong to.
DIMENSIONS = frozenset(
    {"region", "subregion", "country_code", "currency_code", "channel", "product_line", "segment"}
)

Params = Sequence[Any] | Mapping[str, Any] | None


class QueryTimeout(UserError):
    """A query ran past its time limit and was interrupted."""


class StoreLocked(UserError):
    """Another process holds the database file."""


def database_path() -> Path:
    """The store's path: $SALES_ATLAS_DB if set, else data/sales_atlas.duckdb."""
    return Path(os.environ.get(DB_ENV_VAR) or DEFAULT_DB_PATH)


def connect(path: str | Path | None = None, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the store. A lock held by another process becomes a plain `StoreLocked` error."""
    path = Path(path) if path is not None else database_path()
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise StoreLocked(
                f"The database {path} is in use by another process (for example a running app "
                "or import). Close it, or point SALES_ATLAS_DB at another file, and try again."
            ) from exc
        raise


def identifier(name: str, allowed: frozenset[str] = TABLES | DIMENSIONS) -> str:
    """Quote a table or column name after checking it against an allow-list."""
    if name not in allowed or not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise ValueError(f"{name!r} is not an allowed table or column name")
    return f'"{name}"'


def _run(cur: duckdb.DuckDBPyConnection, sql: str, params: Params, time_limit_s: float):
    timer = threading.Timer(time_limit_s, cur.interrupt)
    timer.start()
    try:
        return cur.execute(sql, params) if params is not None else cur.execute(sql)
    except duckdb.InterruptException as exc:
        raise QueryTimeout(
            f"The query took longer than {time_limit_s:.0f} s and was stopped. "
            "Narrow the period or filters and try again."
        ) from exc
    finally:
        timer.cancel()


def query(
    cur: duckdb.DuckDBPyConnection,
    sql: str,
    params: Params = None,
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
) -> pd.DataFrame:
    """Run a read query with bound parameters and return its result as a DataFrame."""
    return _run(cur, sql, params, time_limit_s).df()


def query_rows(
    cur: duckdb.DuckDBPyConnection,
    sql: str,
    params: Params = None,
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
) -> list[tuple]:
    """Run a read query with bound parameters and return its rows as tuples."""
    return _run(cur, sql, params, time_limit_s).fetchall()


def execute(cur: duckdb.DuckDBPyConnection, sql: str, params: Params = None) -> None:
    """Run a statement that changes the store (no time limit: loads must not stop halfway)."""
    if params is None:
        cur.execute(sql)
    else:
        cur.execute(sql, params)


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """Run the block as one transaction: committed if it finishes, rolled back if anything
    (an error, or an interrupt) escapes it, so a load never leaves a table half written."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
