"""Time an import into an existing store with the snapshot step (issue 12): copy, load, swap.

Usage: python benchmarks/snapshot_import.py SOURCE_DB [--lines N] [--repeats R]

SOURCE_DB is copied once to a temporary folder (never written; that copy's time is printed
too, as `cp` would take it), and every repeat imports the same N-line orders CSV (the store's
own latest lines under new order ids, so it validates and loads like a month-end file) into
that store through `store.next_snapshot`, as `python -m analytics import` does, timing:
copy (the current snapshot to the next), load (analytics.importer.import_file: read,
validate, insert, rebuild the rollups, in its transaction), checkpoint + close, and fsync +
swap + prune. Each repeat writes the next snapshot of the one before.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analytics import db, importer, store  # noqa: E402


def _csv(con, path: Path, lines: int, repeat: int) -> bytes:
    con.execute(f"""
        COPY (SELECT 'SNAPBENCH-{repeat}-' || o.order_id AS order_id, o.line_no, o.order_date,
                     o.customer_id, o.country_code AS country, o.currency_code AS currency,
                     o.product_id, o.rep_id, o.channel, o.quantity,
                     o.unit_price_local AS unit_price, o.discount_pct, o.unit_cost_eur
              FROM order_lines o ORDER BY o.order_date DESC, o.order_id, o.line_no
              LIMIT {int(lines)})
        TO '{path}' (HEADER)
    """)  # our own path and an int, not user input
    return path.read_bytes()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source")
    parser.add_argument("--lines", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    source = db.current_file(args.source)
    print(f"load average {os.getloadavg()[0]:.1f} at start; {source.stat().st_size / 1e9:.2f} GB")
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "store.duckdb"
        started = time.perf_counter()
        shutil.copyfile(source, target)
        print(f"first copy (shutil.copyfile): {time.perf_counter() - started:.1f} s")
        phases: dict[str, list[float]] = {"copy": [], "load": [], "checkpoint": [], "swap": []}
        for repeat in range(args.repeats):
            # A plain connection: the app's read connection may not write files.
            with duckdb.connect(str(db.current_file(target)), read_only=True) as con:
                data = _csv(con, Path(folder) / "orders.csv", args.lines, repeat)
            t0 = time.perf_counter()
            with store.next_snapshot(target) as snapshot:
                t1 = time.perf_counter()
                con = db.connect(snapshot)
                report = importer.import_file(con, "orders", data, "orders.csv")
                t2 = time.perf_counter()
                con.execute("CHECKPOINT")
                con.close()
                t3 = time.perf_counter()
            t4 = time.perf_counter()
            assert report.status == "loaded" and report.rows_rejected == 0, report.message
            for name, seconds in zip(phases, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
                phases[name].append(seconds)
            print(
                f"repeat {repeat + 1}: copy {t1 - t0:.1f} s, load {t2 - t1:.1f} s, "
                f"checkpoint {t3 - t2:.1f} s, swap {t4 - t3:.2f} s, total {t4 - t0:.1f} s "
                f"(load average {os.getloadavg()[0]:.1f})"
            )
        medians = {name: statistics.median(values) for name, values in phases.items()}
        print(
            f"{args.lines:,} lines into {source.name}: median "
            + ", ".join(f"{name} {value:.2f} s" for name, value in medians.items())
            + f", total {sum(medians.values()):.1f} s over {args.repeats} imports"
        )


if __name__ == "__main__":
    main()
