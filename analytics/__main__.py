"""Command line: python -m analytics build-demo | init | import | fx-update | bench."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from analytics import bench, db, demo, fx, importer, store


def _build_demo(args: argparse.Namespace) -> int:
    path = Path(args.db) if args.db else db.database_path()
    if path.exists():
        print(f"{path} already exists; delete it or pass --db for a new file.", file=sys.stderr)
        return 2
    path.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()

    def report(done: float, message: str) -> None:
        print(f"[{done:4.0%}] {message}", flush=True)

    demo.build_database(path, rows=args.rows, seed=args.seed, progress=report)
    print(
        f"Built {path} ({args.rows:,} order lines, seed {args.seed}) in {time.perf_counter() - started:.1f} s"
    )
    return 0


def _fx_update(args: argparse.Namespace) -> int:
    path = Path(args.db) if args.db else db.database_path()
    con = db.connect(path)
    try:
        result = fx.fetch_newer_rates(con)
    finally:
        con.close()
    print(result.message)
    return 0 if result.ok else 1


def _init(args: argparse.Namespace) -> int:
    path = Path(args.db) if args.db else db.database_path()
    if path.exists():
        print(f"{path} already exists; choose a new file.", file=sys.stderr)
        return 2
    path.parent.mkdir(parents=True, exist_ok=True)
    con = db.connect(path)
    try:
        store.create_schema(con)
        store.init_reference_data(con)
    finally:
        con.close()
    print(f"Created {path}: countries, currencies and the bundled ECB rates; no company data.")
    return 0


def _import(args: argparse.Namespace) -> int:
    path = Path(args.db) if args.db else db.database_path()
    if not path.exists():
        print(
            f"{path} does not exist; create it with `python -m analytics init --empty --db "
            f"{path}`.",
            file=sys.stderr,
        )
        return 2
    source = Path(args.file)
    try:
        data = source.read_bytes()
    except OSError as problem:
        print(f"error: cannot read {source}: {problem.strerror}", file=sys.stderr)
        return 2
    options = importer.Options(
        date_format=args.date_format,
        decimal_comma=True if args.decimal_comma else None,
        sheet=args.sheet,
    )
    con = db.connect(path)
    try:
        report = importer.import_file(con, args.kind, data, source.name, options)
    finally:
        con.close()
    print(json.dumps(report.to_dict(), indent=2, default=str, ensure_ascii=False))
    return 0 if report.status in ("loaded", "unchanged") else 2


def _bench(args: argparse.Namespace) -> int:
    bench.run(args.rows, repeats=args.repeats, db_path=Path(args.db) if args.db else None)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m analytics", description="Sales Atlas store tools"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    build = commands.add_parser("build-demo", help="build the demo company's database")
    build.add_argument(
        "--db", help=f"database file (default: ${db.DB_ENV_VAR} or {db.DEFAULT_DB_PATH})"
    )
    build.add_argument(
        "--rows", type=int, default=1_000_000, help="order lines (default 1,000,000)"
    )
    build.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    build.set_defaults(run=_build_demo)

    init = commands.add_parser("init", help="create a store with reference data only")
    init.add_argument(
        "--empty",
        action="store_true",
        required=True,
        help="no company data: countries, currencies and ECB rates only",
    )
    init.add_argument("--db", help="database file to create")
    init.set_defaults(run=_init)

    load = commands.add_parser("import", help="import a CSV, XLSX or Parquet file")
    load.add_argument("kind", choices=list(importer.KINDS))
    load.add_argument("file")
    load.add_argument("--db", help="database file")
    load.add_argument(
        "--date-format",
        choices=list(importer.DATE_FORMATS.values()),
        help="how dates are written, when the file does not tell",
    )
    load.add_argument("--decimal-comma", action="store_true", help="numbers are written 1.234,56")
    load.add_argument("--sheet", help="the XLSX sheet to read (default: the first)")
    load.set_defaults(run=_import)

    update = commands.add_parser("fx-update", help="append ECB rates newer than the stored ones")
    update.add_argument("--db", help="database file")
    update.set_defaults(run=_fx_update)

    bench = commands.add_parser("bench", help="time every page's queries")
    bench.add_argument(
        "--rows", type=int, default=1_000_000, help="order lines (default 1,000,000)"
    )
    bench.add_argument("--repeats", type=int, default=15, help="runs per query (default 15)")
    bench.add_argument("--db", help="database to reuse (default benchmarks/bench_<rows>.duckdb)")
    bench.set_defaults(run=_bench)

    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (db.StoreLocked, ValueError) as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
