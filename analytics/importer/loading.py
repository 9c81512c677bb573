"""Writing a load in one transaction with the derived tables (rollups or daily rates),
master-data upserts and pipeline snapshots; and the import_log entry of every import.

Valid rows load with their refresh, or none do.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import uuid
from collections.abc import Iterator

import duckdb
import pandas as pd
import pyarrow as pa

from analytics import awaiting as held_lines
from analytics import costs, db, fx, rollups
from analytics.crm import stages
from analytics.importer import undo
from analytics.importer.kinds import KEYS, TABLES
from analytics.importer.report import Report
from analytics.importer.staging import StagedKeys, StagedLines

# The store's own memory while it loads a staged file (DuckDB's buffer pool: the inserted
# lines, the date-order rewrite and the rollups' refresh spill to disk beyond it). By
# default DuckDB would keep up to 80 % of the machine's memory, as much of it as the load
# takes (issue 18: bounded work). Some steps of the refresh do not spill (at 128 MB it ran
# out of memory on a 200 MB file): a load that runs out under this limit is rolled back
# and made once more under DuckDB's default.
LOAD_MEMORY = "256MB"


def load(con, kind: str, rows, *args, **kwargs) -> int:
    """_load; a staged file's (rows: StagedLines) under LOAD_MEMORY, once more without it
    if it runs out (the first attempt rolled back: nothing of it stays)."""
    if isinstance(rows, StagedLines):
        with _memory_limit(con, LOAD_MEMORY) as bounded:
            try:
                return _load(con, kind, rows, *args, **kwargs)
            except duckdb.OutOfMemoryException:
                if not bounded:
                    raise
    return _load(con, kind, rows, *args, **kwargs)


def _load(
    con,
    kind: str,
    rows: pd.DataFrame | StagedLines,
    created: dict,
    source: str,
    snapshots=None,
    import_id: str | None = None,
    held: pd.DataFrame | StagedKeys | None = None,
    awaiting: pd.DataFrame | None = None,
    funnel: tuple = (),
) -> int:
    """Insert (or for master data upsert) in one transaction with the derived tables.

    `funnel` (opportunities bringing new stages): the funnel to store with them.

    For orders and rates, `held` (every row of the file that is stored after the load, with
    `_inserted` true for the rows this load adds) is recorded under import_id, for undo.
    `awaiting` (orders): lines kept without a rate, held apart (analytics.awaiting).
    An orders file of more than one chunk brings its `rows` and `held` staged (a part at a
    time into the store, still in this one transaction).
    Returns the order lines whose unit cost a standard cost set or changed (product costs)."""
    if import_id is not None and held is not None:
        undo.ensure_tables(con)
    costed = 0
    with db.transaction(con):
        if import_id is not None and held is not None:
            for part in held.parts() if isinstance(held, StagedKeys) else [held]:
                undo.record(con, kind, import_id, part)
        for name, table in created.items():
            _insert(con, name, table, upsert=False)
        if kind == "orders":
            _insert_order_lines(con, rows)
            if awaiting is not None:
                held_lines.hold(con, awaiting)
            costs.apply(con)  # lines without a cost take their product's standard cost
            rollups.refresh(con)  # the months of the lines added or re-costed
        elif kind == "rates":
            _insert(con, "fx_rates", rows.assign(source=source), upsert=False)
            fx.rebuild_fx_daily(con)
            # Lines awaiting these rates convert with them; standard costs in a currency
            # that had no rate on a line's day may now convert too.
            if not held_lines.release(con) and costs.apply(con):
                rollups.refresh(con)
        elif kind == "plan_rates":
            _replace_plan_rates(con, rows)
        else:
            if kind == "products":
                _touch_regrouped(con, rows)
            _insert(con, TABLES[kind], rows, upsert=KEYS[kind])
            if kind == "products":
                rollups.refresh(con)  # the months of a product that changed product line
            if kind == "product_costs":
                costed = costs.apply(con)
                if costed:
                    rollups.refresh(con)
        if funnel:
            stages.write(con, funnel)
        if snapshots is not None and len(snapshots):
            _insert(
                con, "opportunity_snapshots", snapshots, upsert=["snapshot_date", "opportunity_id"]
            )
    return costed


@contextlib.contextmanager
def _memory_limit(con, limit: str) -> Iterator[bool]:
    """The connection's DuckDB memory limit set to `limit` for the block and reset to the
    default afterwards, when it is DuckDB's default (a limit the caller set is left as it
    is: DuckDB shows it rounded, so it could not be put back exactly). Yields whether it
    set it."""
    if _limit(con) != _default_limit():
        yield False
        return
    db.execute(con, "SET memory_limit = $limit", {"limit": limit})
    try:
        yield True
    finally:
        db.execute(con, "RESET memory_limit")


def _limit(con) -> str:
    return db.query_rows(con, "SELECT current_setting('memory_limit')")[0][0]


def _default_limit() -> str:
    """DuckDB's default memory limit on this machine, as it shows it."""
    fresh = duckdb.connect(":memory:")
    try:
        return _limit(fresh)
    finally:
        fresh.close()


def _insert_order_lines(con, rows: pd.DataFrame | StagedLines) -> None:
    """Append the lines in date order; when they start before the latest stored day, rewrite
    the table in date order (DESIGN: period filters then read only their own row groups)."""
    latest = db.query_rows(con, "SELECT max(order_date) FROM order_lines")[0][0]
    if isinstance(rows, StagedLines):  # read back sorted, a range of days at a time
        for part in rows.parts():
            _insert(con, "order_lines", part, upsert=False)
        rollups.touch_dates(con, rows.dates())
        first = rows.first_date()
        if latest is not None and first is not None and first < latest:
            rollups.sort_order_lines(con)
        return
    rows = rows.sort_values(["order_date", "order_id", "line_no"], kind="stable")
    _insert(con, "order_lines", rows, upsert=False)
    rollups.touch_dates(con, pd.to_datetime(rows["order_date"]).dt.date)
    if latest is not None and len(rows) and rows["order_date"].min() < latest:
        rollups.sort_order_lines(con)


def _touch_regrouped(con, rows: pd.DataFrame) -> None:
    """Record for `rollups.refresh` the months of every line of a stored product the file
    moves to another product line: the rollups and summaries keyed by product line would
    otherwise keep its past sales under the old line."""
    con.register("product_rows", rows[["product_id", "product_line"]])
    try:
        rollups.touch(
            con,
            "SELECT o.order_date FROM order_lines o "
            "JOIN products p USING (product_id) JOIN product_rows r USING (product_id) "
            "WHERE p.product_line IS DISTINCT FROM r.product_line",
        )
    finally:
        con.unregister("product_rows")


def _replace_plan_rates(con, rows: pd.DataFrame) -> None:
    """Upsert by (year, quarter, currency) where quarter may be NULL (the whole year), which
    no PRIMARY KEY can hold: the stored rows with the file's keys are deleted, then the
    file's rows inserted (inside load's transaction)."""
    con.register("plan_rows", rows)
    try:
        db.execute(
            con,
            "DELETE FROM plan_rates p USING plan_rows r WHERE p.year = r.year "
            "AND p.quarter IS NOT DISTINCT FROM r.quarter AND p.currency_code = r.currency_code",
        )
    finally:
        con.unregister("plan_rows")
    _insert(con, "plan_rates", rows, upsert=False)


def _insert(
    con, table: str, rows: pd.DataFrame | pa.Table, upsert: list[str] | bool = False
) -> None:
    """Insert rows (a frame, or an Arrow table); with `upsert` (the key columns) a stored row
    with the same key takes the file's values."""
    name = db.identifier(table, db.TABLES)
    names = rows.column_names if isinstance(rows, pa.Table) else list(rows.columns)
    allowed = frozenset(names)
    con.register("load_rows", rows)
    try:
        columns = ", ".join(db.identifier(c, allowed) for c in names)
        conflict = ""
        if upsert:
            keys = ", ".join(db.identifier(c, allowed) for c in upsert)
            updates = ", ".join(
                f"{db.identifier(c, allowed)} = excluded.{db.identifier(c, allowed)}"
                for c in names
                if c not in upsert
            )
            conflict = f" ON CONFLICT ({keys}) DO UPDATE SET {updates}"
        db.execute(con, f"INSERT INTO {name} ({columns}) SELECT {columns} FROM load_rows{conflict}")
    finally:
        con.unregister("load_rows")


def new_import_id() -> str:
    return uuid.uuid4().hex[:12]


def log_import(
    con, report: Report, data: bytes, started: dt.datetime, import_id: str | None = None
) -> None:
    db.execute(
        con,
        "INSERT INTO import_log VALUES ($id, $kind, $file, $sha, $read, $loaded, $rejected, "
        "$status, $started, $finished)",
        {
            "id": import_id or new_import_id(),
            "kind": report.kind,
            "file": report.file_name,
            "sha": hashlib.sha256(data).hexdigest(),
            "read": report.rows_read,
            "loaded": report.rows_loaded if report.status in ("loaded", "unchanged") else 0,
            "rejected": report.rows_rejected,
            "status": report.status,
            "started": started,
            "finished": dt.datetime.now().replace(microsecond=0),
        },
    )
