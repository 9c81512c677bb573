"""Time importing a 1M-line orders CSV into an empty store (issue 7's target: 30 s).

Usage: python benchmarks/import_orders.py [SOURCE_DB] [--repeats N]

The CSV is exported from SOURCE_DB (default benchmarks/bench_1000000.duckdb, built by
`python -m analytics bench --rows 1000000`) with every template column, then imported with
`analytics.importer.import_file` into a fresh `init --empty` store: reading, detecting,
validating every row, creating customers/products/reps, loading and rebuilding the rollups.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analytics import db, importer, store  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", default=str(ROOT / "benchmarks/bench_1000000.duckdb"))
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        csv_path = Path(folder) / "orders.csv"
        with db.connect(args.source, read_only=True) as con:
            con.execute(f"""
                COPY (SELECT o.order_id, o.line_no, o.order_date, o.customer_id,
                             c.name AS customer_name, c.segment, o.country_code AS country,
                             o.currency_code AS currency, o.product_id, p.name AS product_name,
                             p.product_line, o.rep_id, r.name AS rep_name, o.channel, o.quantity,
                             o.unit_price_local AS unit_price, o.discount_pct, o.unit_cost_eur
                      FROM order_lines o JOIN customers c USING (customer_id)
                      JOIN products p USING (product_id) LEFT JOIN reps r USING (rep_id)
                      ORDER BY o.order_date, o.order_id, o.line_no)
                TO '{csv_path}' (HEADER)
            """)  # the path is ours, not user input
        data = csv_path.read_bytes()
        times = []
        for i in range(args.repeats):
            target = Path(folder) / f"store_{i}.duckdb"
            con = db.connect(target)
            store.create_schema(con)
            store.init_reference_data(con)
            started = time.perf_counter()
            report = importer.import_file(con, "orders", data, "orders.csv")
            times.append(time.perf_counter() - started)
            con.close()
            assert report.status == "loaded", report.message
        print(
            f"{report.rows_read:,} lines, {len(data) / 1e6:.0f} MB: "
            f"median {statistics.median(times):.1f} s over {args.repeats} imports "
            f"(loaded {report.rows_loaded:,}, rejected {report.rows_rejected:,})"
        )


if __name__ == "__main__":
    main()
