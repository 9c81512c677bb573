"""What happens in the middle of a sessions run (issue 12's load figure): a CLI import of a
small orders file into the store the server reads, and a scenario save through the protocol.

Both run on a copy of the store (`working_copy`), so a benchmark never changes the shared
benchmark stores; each is checked afterwards by a second path (the import's own exit status
and the new lines in the store; the saved scenario in the state store), not only by the
absence of an error.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

import duckdb

from .protocol import Session
from .server import REPO_ROOT

IMPORT_PREFIX = "LOADBENCH-"
SCENARIO_NAME = "Load benchmark: dollar -10 %"


def working_copy(source: Path, folder: Path) -> Path:
    """A copy of the store's current file in `folder`, for a run that writes."""
    sys.path.insert(0, str(REPO_ROOT))
    from analytics import db

    target = folder / "store.duckdb"
    shutil.copyfile(db.current_file(source), target)
    return target


def orders_file(store: Path, folder: Path, lines: int) -> Path:
    """The store's own latest `lines` order lines under new order ids: a month-end file that
    validates and loads like a real one (benchmarks/snapshot_import.py makes the same)."""
    path = folder / "orders.csv"
    with duckdb.connect(str(store), read_only=True) as con:
        con.execute(f"""
            COPY (SELECT '{IMPORT_PREFIX}' || o.order_id AS order_id, o.line_no, o.order_date,
                         o.customer_id, o.country_code AS country, o.currency_code AS currency,
                         o.product_id, o.rep_id, o.channel, o.quantity,
                         o.unit_price_local AS unit_price, o.discount_pct, o.unit_cost_eur
                  FROM order_lines o ORDER BY o.order_date DESC, o.order_id, o.line_no
                  LIMIT {int(lines)})
            TO '{path}' (HEADER)
        """)  # our own path and an int, not user input
    return path


def imported_lines(store: Path) -> int:
    sys.path.insert(0, str(REPO_ROOT))
    from analytics import db

    with duckdb.connect(str(db.current_file(store)), read_only=True) as con:
        return con.execute(
            "SELECT count(*) FROM order_lines WHERE starts_with(order_id, ?)", [IMPORT_PREFIX]
        ).fetchone()[0]


async def cli_import(store: Path, orders: Path, t0: float) -> dict[str, Any]:
    """`python -m analytics import orders FILE --db STORE`, as a data owner runs it."""
    started = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "analytics",
        "import",
        "--db",
        str(store),
        "orders",
        str(orders),
        cwd=REPO_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    lines = await asyncio.to_thread(imported_lines, store)
    return {
        "event": "cli_import",
        "at_s": round(started - t0, 1),
        "seconds": round(time.monotonic() - started, 1),
        "returncode": process.returncode,
        "lines_in_store_after": lines,
        "output_tail": output.decode(errors="replace").strip().splitlines()[-3:],
    }


async def scenario_save(ws_url: str, state_file: Path, t0: float) -> dict[str, Any]:
    """An analyst opens the Pricing lab, names the default scenario and clicks Save."""
    session = Session(ws_url)
    started = time.monotonic()
    record: dict[str, Any] = {"event": "scenario_save", "at_s": round(started - t0, 1)}
    try:
        await session.open("pricing", "")
        await session.set_text("p_save_name", SCENARIO_NAME)
        result = await session.click("p_save")
        record["latency_s"] = round(result.latency_s, 3)
    except Exception as problem:  # reported in the result, as a user's error is
        record["error"] = f"{type(problem).__name__}: {problem}"
    finally:
        await session.close()
    record["seconds"] = round(time.monotonic() - started, 1)
    try:
        with sqlite3.connect(state_file) as con:
            found = con.execute(
                "SELECT count(*) FROM scenarios WHERE name = ?", [SCENARIO_NAME]
            ).fetchone()[0]
    except sqlite3.OperationalError:  # no state store, or no scenarios table: nothing saved
        found = 0
    record["saved"] = found == 1
    return record


def failed(record: dict[str, Any]) -> bool:
    """Whether an event did not do what it should have (checked by its second path)."""
    if record["event"] == "cli_import":
        return record["returncode"] != 0 or record["lines_in_store_after"] == 0
    return "error" in record or not record["saved"]
