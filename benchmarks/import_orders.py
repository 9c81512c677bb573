"""Time importing a 1M-line orders CSV into an empty store (issue 7's and 11's target: 30 s).

Usage: python benchmarks/import_orders.py [SOURCE_DB] [--repeats N] [--lines N] [--mapped]

The CSV is exported from SOURCE_DB (default benchmarks/bench_1000000.duckdb, built by
`python -m analytics bench --rows 1000000`; `--lines 1000000` takes the first million lines
of a larger store) with every template column, then imported with
`analytics.importer.import_file` into a fresh `init --empty` store: reading, detecting,
validating every row, creating customers/products/reps, loading and rebuilding the rollups.

With --mapped (issue 11) the columns get headers no alias or vendor list knows (an
in-house ERP's), a mapping for them is saved in a fresh state store under a name, and each
import finds it by the file's header signature, as the Data page and the CLI do.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analytics import db, importer, state, store  # noqa: E402

# field -> the column name it is exported under (the template's own names, or with
# --mapped names that nothing recognises, so the saved mapping is what reads the file).
COLUMNS = {
    "order_id": ("o.order_id", "Beleg-Nr"),
    "line_no": ("o.line_no", "Pos"),
    "order_date": ("o.order_date", "Gebucht am"),
    "customer_id": ("o.customer_id", "Debitor"),
    "customer_name": ("c.name", "Debitor Bez"),
    "segment": ("c.segment", "Kd-Gruppe"),
    "country": ("o.country_code", "Land-Kz"),
    "currency": ("o.currency_code", "Whg"),
    "product_id": ("o.product_id", "Artikel"),
    "product_name": ("p.name", "Artikel Bez"),
    "product_line": ("p.product_line", "Sparte"),
    "rep_id": ("o.rep_id", "Betreuer"),
    "rep_name": ("r.name", "Betreuer Bez"),
    "channel": ("o.channel", "Vertriebsweg"),
    "quantity": ("o.quantity", "Menge"),
    "unit_price": ("o.unit_price_local", "Preis je"),
    "discount_pct": ("o.discount_pct", "Rabatt"),
    "unit_cost_eur": ("o.unit_cost_eur", "Kosten EUR"),
}
MAPPING_NAME = "In-house ERP export"


def export(source: str, csv_path: Path, lines: int | None, mapped: bool) -> None:
    """The source store's order lines as a CSV, in date order, optionally the first `lines`."""
    # Names and expressions are the constants above, the path is ours: no user input.
    select = ", ".join(
        f'{expression} AS "{header if mapped else field}"'
        for field, (expression, header) in COLUMNS.items()
    )
    limit = f" LIMIT {int(lines)}" if lines else ""
    # duckdb's own connection: the store's (db.connect) forbids writing files when read-only.
    with duckdb.connect(source, read_only=True) as con:
        con.execute(f"""
            COPY (SELECT {select}
                  FROM order_lines o JOIN customers c USING (customer_id)
                  JOIN products p USING (product_id) LEFT JOIN reps r USING (rep_id)
                  ORDER BY o.order_date, o.order_id, o.line_no{limit})
            TO '{csv_path}' (HEADER)
        """)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", default=str(ROOT / "benchmarks/bench_1000000.duckdb"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--lines", type=int, default=None, help="the first N lines only")
    parser.add_argument("--mapped", action="store_true", help="unfamiliar headers + saved mapping")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        csv_path = Path(folder) / "orders.csv"
        export(args.source, csv_path, args.lines, args.mapped)
        data = csv_path.read_bytes()
        state_file = Path(folder) / "state.sqlite"
        if args.mapped:
            header = data[: data.index(b"\n")].decode().split(",")
            signature = importer.header_signature(header)
            columns = {field: header for field, (_, header) in COLUMNS.items()}
            state.save_mapping(state_file, MAPPING_NAME, "orders", signature, columns)
        times, cpu = [], []
        for i in range(args.repeats):
            target = Path(folder) / f"store_{i}.duckdb"
            con = db.connect(target)
            store.create_schema(con)
            store.init_reference_data(con)
            started, cpu_started = time.perf_counter(), time.process_time()
            report = importer.import_file(
                con,
                "orders",
                data,
                "orders.csv",
                saved_mapping=lambda signature: state.mapping_for(state_file, "orders", signature),
            )
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - cpu_started)
            con.close()
            target.unlink()
            assert report.status == "loaded", report.message
            assert report.rows_rejected == 0, report.rejected[:5]
            if args.mapped:
                assert report.mapping_name == MAPPING_NAME, report.mapping_name
        print(
            f"{report.rows_read:,} lines, {len(data) / 1e6:.0f} MB"
            f"{f', saved mapping “{report.mapping_name}”' if args.mapped else ''}: "
            f"median {statistics.median(times):.1f} s over {args.repeats} imports "
            f"(each: {', '.join(f'{t:.1f}' for t in times)} s; CPU time, every thread: "
            f"{', '.join(f'{t:.1f}' for t in cpu)} s, which other processes on the machine "
            f"do not inflate; loaded {report.rows_loaded:,}, rejected {report.rows_rejected:,})"
        )


if __name__ == "__main__":
    main()
