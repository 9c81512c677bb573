"""Building the demo store: every part generated in order (the order lines in committed
batches, the rest in two transactions), with progress reported and the build recorded in
import_log.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np

from analytics import db, rollups, store
from analytics.demo.company import COMPANY
from analytics.demo.orders import insert_order_lines
from analytics.demo.pipeline import insert_activities, insert_pipeline
from analytics.demo.plan import insert_market_data, insert_plan_rates, insert_quotas_and_budgets
from analytics.demo.prices import PriceLists
from analytics.demo.rates import RateMatrix
from analytics.demo.world import World

Progress = Callable[[float, str], None]
BUILD_MEMORY = "1GB"


def build_database(
    path: str | Path, rows: int = 1_000_000, seed: int = 42, progress: Progress | None = None
) -> None:
    """Create a new store at `path` holding the demo company (refuses an existing store).

    The order lines are committed in batches (see orders.COMMIT_LINES), so a build that
    fails part way deletes the file rather than leave a half-built store."""
    path = Path(path)
    if path.exists() and path.stat().st_size > 0:
        raise ValueError(f"{path} already exists; the demo is only built into a new file.")
    con = db.connect(path)
    try:
        # DuckDB would otherwise cache up to 80 % of the machine's memory; half of the
        # 2 GB build budget is plenty, the rest of it spills to temporary files (issue 19).
        db.execute(con, f"SET memory_limit = '{BUILD_MEMORY}'")
        store.create_schema(con)
        _report(progress, 0.02, "Loading the ECB exchange-rate history…")
        store.init_reference_data(con)
        build(con, rows=rows, seed=seed, progress=progress)
        con.execute("CHECKPOINT")
    except BaseException:
        con.close()
        for leftover in (path, path.with_name(path.name + ".wal")):
            leftover.unlink(missing_ok=True)
        raise
    con.close()


def build(
    con: duckdb.DuckDBPyConnection,
    rows: int = 1_000_000,
    seed: int = 42,
    progress: Progress | None = None,
) -> None:
    """Fill every company table of a store that has its schema, countries and rates.

    Three steps, each committed: the world and price lists, the order lines (in batches),
    then the rollups, plans and pipeline. Only for a new store: a failure leaves it part
    built (build_database deletes it)."""
    if rows < 1_000:
        raise ValueError(f"The demo needs at least 1,000 order lines (asked for {rows:,}).")
    started = dt.datetime.now()
    rng = np.random.default_rng(seed)
    rates = RateMatrix(con)
    with db.transaction(con):
        _report(progress, 0.10, "Creating products, customers and sales teams…")
        world = World(rng, rows)
        world.insert(con, rng)
        _report(progress, 0.15, "Writing local price lists…")
        prices = PriceLists(world, rates)
        prices.insert(con)
    _report(progress, 0.25, f"Generating {rows:,} order lines…")
    insert_order_lines(con, rng, world, prices, rates, rows)
    with db.transaction(con):
        _report(progress, 0.65, "Building the daily rollups…")
        rollups.rebuild_sales_rollups(con)
        _report(progress, 0.80, "Setting quotas, budgets and plan rates…")
        insert_quotas_and_budgets(con, rng)
        insert_plan_rates(con)
        _report(progress, 0.85, "Generating opportunities, snapshots and activities…")
        insert_pipeline(con, rng, world, rates, rows)
        insert_activities(con, rng, world, rows)
        insert_market_data(con, rng, world)
        _log_build(con, rows, seed, started)
    _report(progress, 1.0, "Demo company ready")


def _report(progress: Progress | None, done: float, message: str) -> None:
    if progress is not None:
        progress(done, message)


def _log_build(con, rows: int, seed: int, started: dt.datetime) -> None:
    label = f"Demo data: {COMPANY}, seed {seed}, {rows:,} lines"
    digest = hashlib.sha256(label.encode()).hexdigest()
    db.execute(
        con,
        """
        INSERT INTO import_log VALUES (?, 'demo', ?, ?, ?, ?, 0, 'loaded', ?, ?)
        """,
        [f"demo-{seed}-{rows}", label, digest, rows, rows, started, dt.datetime.now()],
    )
