"""Command line: python -m analytics build-demo | fx-update | bench."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from analytics import bench, db, demo, fx


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

    update = commands.add_parser("fx-update", help="append ECB rates newer than the stored ones")
    update.add_argument("--db", help="database file")
    update.set_defaults(run=_fx_update)

    bench = commands.add_parser("bench", help="time the Overview's queries")
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
