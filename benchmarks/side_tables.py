"""Time this version's page queries on a store made by an earlier version, without changing
or copying it: the derived tables this version added or reshaped (rep_monthly with its
currency and sums, key_lines) are built into a scratch DuckDB that attaches the store
read-only, and every other table is read from the store through the search path (issue 19,
branch scale: a 50M store is ~10 GB, too large to copy for an upgrade).

Usage:
    python benchmarks/side_tables.py STORE [--repeats 3] [--workdir DIR] [--json out.json]

Prints, per query of analytics.bench.page_queries that reads the new tables (the Team &
pipeline views, the Data page), the median of --repeats after a warm-up, and the time the
side tables took to build. The scratch file is deleted afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402

from analytics import bench, rollups  # noqa: E402

HERE = Path(__file__).resolve().parent
# The page queries that read rep_monthly or key_lines.
READERS = ("team: attainment view", "team: activity", "team: rep view", "data: ")


def side_store(store: Path, scratch: Path) -> tuple[duckdb.DuckDBPyConnection, float]:
    """A connection on `scratch` with the store attached read-only as `s`, rep_monthly and
    key_lines built from its tables by rollups' own statements, and the search path set so
    that every other name resolves to the store."""
    scratch.unlink(missing_ok=True)
    con = duckdb.connect(str(scratch))
    con.execute(f"ATTACH '{store}' AS s (READ_ONLY)")
    started = time.perf_counter()
    schema = (ROOT / "analytics" / "schema.sql").read_text()
    for table in ("rep_monthly", rollups.KEY_LINES):
        con.execute(rollups_table_ddl(schema, table))
    rollups._insert_rep_monthly(con, "SELECT * FROM s.order_lines", {})
    con.execute("SET search_path = 'main,s.main'")
    rollups._key_lines_after(con, None)
    con.execute("CHECKPOINT")
    return con, time.perf_counter() - started


def rollups_table_ddl(schema: str, table: str) -> str:
    start = schema.index(f"CREATE TABLE IF NOT EXISTS {table} (")
    return schema[start : schema.index(");", start) + 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("store", type=Path)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=HERE)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    scratch = args.workdir / f"side_{os.getpid()}.duckdb"
    con, built_s = side_store(args.store.resolve(), scratch)
    try:
        cur = con.cursor()
        cur.execute("SET search_path = 'main,s.main'")
        load = "/".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"side tables built in {built_s:.1f} s (load {load})", flush=True)
        results = {}
        for scenario, label, fn, runs in bench.page_queries(cur, args.repeats):
            if not label.startswith(READERS):
                continue
            results[f"{scenario} | {label}"] = bench._median_ms(fn, min(runs, args.repeats))
            print(f"  {scenario} | {label}: {results[f'{scenario} | {label}']:.1f} ms", flush=True)
        load = "/".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"load after: {load}")
        if args.json:
            args.json.write_text(json.dumps({"built_s": built_s, "queries": results}, indent=1))
    finally:
        con.close()
        scratch.unlink(missing_ok=True)
        scratch.with_name(scratch.name + ".wal").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
