"""Command line: python -m analytics build-demo | init | import | import-undo | fx-update |
summary-currencies | bench | report | figures | forecast."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

from analytics import (
    access,
    bench,
    catalog,
    db,
    demo,
    fx,
    importer,
    periods,
    review,
    state,
    store,
    summary_currencies,
)
from analytics.errors import UserError
from analytics.filters import BASES, Filters


def _build_demo(args: argparse.Namespace) -> int:
    path = Path(args.db) if args.db else db.database_path()
    if os.path.lexists(path):
        print(f"{path} already exists; delete it or pass --db for a new file.", file=sys.stderr)
        return 2
    path.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()

    def report(done: float, message: str) -> None:
        print(f"[{done:4.0%}] {message}", flush=True)

    with store.next_snapshot(path, create=True) as target:
        demo.build_database(target, rows=args.rows, seed=args.seed, progress=report)
    print(
        f"Built {path} ({args.rows:,} order lines, seed {args.seed}) in {time.perf_counter() - started:.1f} s"
    )
    return 0


def _fx_update(args: argparse.Namespace) -> int:
    path = Path(args.db) if args.db else db.database_path()

    @contextlib.contextmanager
    def reading():
        con = db.connect(path, read_only=True)
        try:
            yield con
        finally:
            con.close()

    # Read, fetch with no connection open, then write the next snapshot: the store is not
    # held meanwhile, and servers reading it read on.
    result = fx.update_rates(reading, lambda: store.writing(path))
    print(result.message)
    return 0 if result.ok else 1


def _init(args: argparse.Namespace) -> int:
    path = Path(args.db) if args.db else db.database_path()
    if os.path.lexists(path):
        print(f"{path} already exists; choose a new file.", file=sys.stderr)
        return 2
    path.parent.mkdir(parents=True, exist_ok=True)
    with store.writing(path, create=True) as con:
        store.create_schema(con)
        store.init_reference_data(con)
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
        cost_currency=args.cost_currency,
        country=args.country,
    )
    mapping = None
    if args.mapping:
        try:
            mapping = importer.read_mapping_file(Path(args.mapping))
        except (OSError, ValueError) as problem:
            print(f"error: cannot read the mapping {args.mapping}: {problem}", file=sys.stderr)
            return 2
    state_file = state.state_path(path)
    # Into the store's next snapshot: servers reading the store read on, and see the load
    # all at once when it is swapped in.
    with store.writing(path) as con:
        report = importer.import_file(
            con,
            args.kind,
            data,
            source.name,
            options,
            mapping=mapping,
            saved_mapping=lambda signature: state.mapping_for(state_file, args.kind, signature),
        )
    if args.save_mapping and report.columns:
        state.save_mapping(
            state_file, args.save_mapping, args.kind, report.header_signature, report.columns
        )
    print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False, allow_nan=False))
    return 0 if report.status in ("loaded", "unchanged") else 2


def _import_undo(args: argparse.Namespace) -> int:
    path = Path(args.db) if args.db else db.database_path()
    if not path.exists():
        print(f"error: {path} does not exist.", file=sys.stderr)
        return 2
    try:
        with store.writing(path) as con:
            result = importer.undo_import(con, args.import_id)
    except UserError as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    print(result.message)
    return 0


def _summary_currencies(args: argparse.Namespace) -> int:
    """Show, or set, the reporting currencies the monthly summaries hold (besides EUR)."""
    path = Path(args.db) if args.db else db.database_path()
    if not path.exists():
        print(f"error: {path} does not exist.", file=sys.stderr)
        return 2
    with db.connect(path, read_only=True) as con:
        user = _report_user(con, args.user)
        listed = summary_currencies.stored(con)
    if not args.currencies:
        print(f"Summary currencies: {', '.join(listed) or 'none'} (and EUR).")
        return 0
    if not user.can("settings"):
        print(f"error: {access.RIGHT_REASONS['settings']}", file=sys.stderr)
        return 2
    with store.writing(path) as con:
        change = summary_currencies.set_currencies(con, args.currencies)
    state.record(
        state.connect(state.state_path(path)), user.email, "summary currencies", change.message
    )
    print(change.message)
    return 0


def _bench(args: argparse.Namespace) -> int:
    bench.run(args.rows, repeats=args.repeats, db_path=Path(args.db) if args.db else None)
    return 0


# The command's comparison names (the base of scheduled packs) against the review's.
REPORT_COMPARISONS = {
    "prior_period": "prior_quarter",
    "prior_year": "last_year",
    "budget": "budget",
}


def _quarter_inputs(con, path, quarter, currency: str):
    """The store's catalog and the reporting currency for a quarter's figures (report and
    figures share these checks), or the reason they cannot be computed."""
    store_catalog = catalog.load(con)
    if not store_catalog.has_sales:
        return store_catalog, None, f"{path} holds no sales yet; import order lines first."
    if quarter not in periods.full_quarters(store_catalog.first_date, store_catalog.last_date):
        return (
            store_catalog,
            None,
            f"{quarter.label} is not a complete quarter in {path} (the data runs "
            f"from {store_catalog.first_date:%d %b %Y} to {store_catalog.last_date:%d %b %Y}).",
        )
    currency = currency.upper()
    if currency not in store_catalog.currencies:
        return (
            store_catalog,
            None,
            f"no exchange rates for {currency} in {path}; choose one of "
            f"{', '.join(store_catalog.currencies)}.",
        )
    return store_catalog, currency, None


def _report(args: argparse.Namespace) -> int:
    """The quarterly review's PPTX, PDF or HTML, built as the Quarterly review page builds it."""
    # Imported here: the store commands need neither python-pptx, fpdf nor plotly.
    from analytics.forecast import figures as forecast_figures
    from exports import deck, html, pdf
    from ui.charts import review_figures

    builders = {
        "pptx": lambda data, forecast: deck.to_pptx(data, forecast),
        "pdf": lambda data, forecast: pdf.to_pdf(data, review_figures(data)),
        "html": lambda data, forecast: html.to_html(data, forecast).encode("utf-8"),
    }
    path = Path(args.db) if args.db else db.database_path()
    if not path.exists():
        print(f"error: {path} does not exist.", file=sys.stderr)
        return 2
    quarter = periods.parse_quarter_key(args.quarter)
    con = db.connect(path, read_only=True)
    try:
        user = _report_user(con, args.user)
        # From here on every query on `con` sees only the user's regions and countries.
        access.restrict(con, user.reach)
        _, currency, problem = _quarter_inputs(con, path, quarter, args.currency)
        if problem:
            print(f"error: {problem}", file=sys.stderr)
            return 2
        filters = Filters(period=quarter, comparison=quarter, currency=currency, basis=args.basis)
        data = review.build(con, quarter, REPORT_COMPARISONS[args.compare], filters)
        # The deck and the HTML report end with the forecast and year-end landing.
        forecast = None
        if args.format in ("pptx", "html"):
            as_of = forecast_figures.review_as_of(quarter.end, data.data_date)
            forecast = forecast_figures.build_summary(con, as_of, currency)
        content = builders[args.format](data, forecast)
    except UserError as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    finally:
        con.close()
    out = Path(args.out)
    out.write_bytes(content)
    if access.access_path() is not None:
        state.record(
            state.connect(state.state_path(path)),
            user.email,
            "export",
            f"{args.format} {quarter.label}",
        )
    print(out)
    return 0


def _figures(args: argparse.Namespace) -> int:
    """The quarterly review's headline figures, from the functions the Review page uses."""
    path = Path(args.db) if args.db else db.database_path()
    if not path.exists():
        print(f"error: {path} does not exist.", file=sys.stderr)
        return 2
    try:
        quarter = periods.parse_quarter_key(args.period)
    except ValueError as problem:
        print(f"error: --period: {problem}", file=sys.stderr)
        return 2
    con = db.connect(path, read_only=True)
    try:
        user = _report_user(con, args.user)
        access.restrict(con, user.reach)
        store_catalog, currency, problem = _quarter_inputs(con, path, quarter, args.currency)
        if problem:
            print(f"error: {problem}", file=sys.stderr)
            return 2
        regions = tuple(args.region or ())
        countries = tuple(c.upper() for c in args.country or ())
        known = {code for code, _, _ in store_catalog.countries}
        unknown = [r for r in regions if r not in store_catalog.regions] + [
            c for c in countries if c not in known
        ]
        if unknown:
            print(
                f"error: unknown (or outside your access) region or country: {', '.join(unknown)}.",
                file=sys.stderr,
            )
            return 2
        filters = Filters(
            period=quarter,
            comparison=quarter,
            currency=currency,
            basis=args.basis,
            regions=regions,
            countries=countries,
        )
        data = review.build(con, quarter, REPORT_COMPARISONS[args.compare], filters)
        result = review.figures(data)
    except (UserError, ValueError) as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    finally:
        con.close()
    if args.json:
        print(json.dumps(result, ensure_ascii=False, allow_nan=False, indent=1))
        return 0
    print(
        f"{result['period']} vs {result['comparison_label']} · {currency}, {result['basis_label']}"
    )
    print(f"{result['scope']}")
    for name, value in result.items():
        if isinstance(value, float):
            print(
                f"{name:<20} {value:>20,.2f}" if name != "growth" else f"{name:<20} {value:>20.4%}"
            )
    for effect, amount in result["bridge"].items():
        print(f"bridge {effect:<13} {'–' if amount is None else f'{amount:,.2f}':>20}")
    return 0


def _report_user(con, email: str | None) -> access.User:
    """Who the report is for: with an access file, a listed user (--user is required);
    without one, the local single user, who sees everything."""
    path = access.access_path()
    if path is None:
        if email:
            raise access.AccessFileError(
                f"--user needs an access file: set {access.ENV_VAR} to its path."
            )
        return access.LOCAL_USER
    listed = access.load(path, con)
    if not email:
        raise access.UnknownUser(
            f"{access.ENV_VAR} is set: name the user the report is for with --user EMAIL."
        )
    return listed.require(email)


FORECAST_LEVELS = ("region", "country", "product_line", "channel", "total")


def _forecast(args: argparse.Namespace) -> int:
    """The statistical forecast of one level's series, from the data on or before --as-of."""
    # Imported here: only this command needs statsmodels.
    from analytics.forecast import batch

    try:
        as_of = dt.date.fromisoformat(args.as_of)
    except ValueError:
        print(f"error: --as-of {args.as_of!r} is not a date; write it YYYY-MM-DD.", file=sys.stderr)
        return 2
    if args.by not in FORECAST_LEVELS:
        print(
            f"error: --by {args.by!r} is not a level; choose one of {', '.join(FORECAST_LEVELS)}.",
            file=sys.stderr,
        )
        return 2
    if not 1 <= args.months <= batch.MAX_MONTHS:
        print(
            f"error: --months must be 1 to {batch.MAX_MONTHS}, not {args.months}.", file=sys.stderr
        )
        return 2
    path = Path(args.db) if args.db else db.database_path()
    if not path.exists():
        print(f"error: {path} does not exist.", file=sys.stderr)
        return 2
    con = db.connect(path, read_only=True)
    try:
        result = batch.forecast_store(con, as_of, args.months, levels=(args.by,))
    except UserError as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    finally:
        con.close()
    rows = result.rows(args.by)
    if not rows:
        print(
            f"error: no {args.by} has the complete months a forecast needs on or before "
            f"{as_of:%d %b %Y} ({'; '.join(f'{g}: {why}' for _, g, why in result.skipped)})",
            file=sys.stderr,
        )
        return 2
    if args.json:
        document = {
            "rows": rows,
            "basis": result.basis,
            "last_observed_month": f"{result.window.last_month:%Y-%m}",
            "models": [
                {"group": s.group, "model": s.chosen, "method_note": s.method_note}
                for s in result.series
            ],
            "not_forecast": [{"group": group, "why": why} for _, group, why in result.skipped],
        }
        print(json.dumps(document, ensure_ascii=False, allow_nan=False, indent=1))
        return 0
    print(f"Forecast by {args.by}, {result.basis}")
    print(f"Last observed month: {result.window.last_month:%Y-%m}")
    for row in rows:
        print(
            f"{row['group']:<24} {row['month']}  {row['forecast']:>16,.0f}  "
            f"80 %: {row['lo80']:,.0f} to {row['hi80']:,.0f}  "
            f"95 %: {row['lo95']:,.0f} to {row['hi95']:,.0f}"
        )
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
    load.add_argument(
        "--mapping",
        help='which column holds each field: a TOML or JSON file of field = "column"',
    )
    load.add_argument(
        "--save-mapping",
        metavar="NAME",
        help="save the columns used under NAME; files with the same headers get it again",
    )
    load.add_argument("--cost-currency", help="the currency of a unit cost column (e.g. EUR)")
    load.add_argument("--country", help="the country of lines whose file and customer give none")
    load.set_defaults(run=_import)

    undo = commands.add_parser(
        "import-undo", help="remove the order lines or rates one import added (by its id)"
    )
    undo.add_argument("import_id", help="the import's id (import_log, or the import's report)")
    undo.add_argument("--db", help="database file")
    undo.set_defaults(run=_import_undo)

    update = commands.add_parser("fx-update", help="append ECB rates newer than the stored ones")
    update.add_argument("--db", help="database file")
    update.set_defaults(run=_fx_update)

    listed = commands.add_parser(
        "summary-currencies",
        help="show or set the reporting currencies the monthly summaries hold besides EUR",
    )
    listed.add_argument(
        "currencies",
        nargs="*",
        metavar="CODE",
        help="the whole new list, e.g. USD GBP CHF (none: show the list)",
    )
    listed.add_argument("--db", help="database file")
    listed.add_argument("--user", help=f"who changes it: an admin (needs {access.ENV_VAR})")
    listed.set_defaults(run=_summary_currencies)

    bench = commands.add_parser("bench", help="time every page's queries")
    bench.add_argument(
        "--rows", type=int, default=1_000_000, help="order lines (default 1,000,000)"
    )
    bench.add_argument("--repeats", type=int, default=15, help="runs per query (default 15)")
    bench.add_argument("--db", help="database to reuse (default benchmarks/bench_<rows>.duckdb)")
    bench.set_defaults(run=_bench)

    pack = commands.add_parser("report", help="the quarterly review as PPTX, PDF or HTML")
    pack.add_argument("--db", help="database file")
    pack.add_argument("--quarter", required=True, help="a complete quarter, e.g. 2026-Q3")
    pack.add_argument("--compare", required=True, choices=list(REPORT_COMPARISONS))
    pack.add_argument("--currency", default="EUR", help="reporting currency (default EUR)")
    pack.add_argument("--basis", default="reported", choices=list(BASES))
    pack.add_argument("--format", required=True, choices=["pptx", "pdf", "html"])
    pack.add_argument("--out", required=True, help="file to write")
    pack.add_argument(
        "--user",
        help=f"build it within this user's regions and countries (needs {access.ENV_VAR})",
    )
    pack.set_defaults(run=_report)

    numbers = commands.add_parser(
        "figures", help="the quarterly review's headline figures (as the Review page shows them)"
    )
    numbers.add_argument("--db", help="database file")
    numbers.add_argument("--period", required=True, help="a complete quarter, e.g. 2026-Q3")
    numbers.add_argument("--compare", required=True, choices=list(REPORT_COMPARISONS))
    numbers.add_argument("--currency", default="EUR", help="reporting currency (default EUR)")
    numbers.add_argument("--basis", default="reported", choices=list(BASES))
    numbers.add_argument("--region", action="append", help="a region (repeat for several)")
    numbers.add_argument("--country", action="append", help="an ISO country code (repeatable)")
    numbers.add_argument(
        "--user",
        help=f"the figures within this user's regions and countries (needs {access.ENV_VAR})",
    )
    numbers.add_argument("--json", action="store_true", help="print JSON (null, never NaN)")
    numbers.set_defaults(run=_figures)

    ahead = commands.add_parser("forecast", help="statistical forecast of monthly net revenue")
    ahead.add_argument("--db", help="database file")
    ahead.add_argument("--as-of", required=True, help="forecast date YYYY-MM-DD; later data unread")
    ahead.add_argument("--months", type=int, default=12, help="months ahead, 1 to 18 (default 12)")
    ahead.add_argument("--by", default="region", help=f"one of {', '.join(FORECAST_LEVELS)}")
    ahead.add_argument("--json", action="store_true", help="print JSON")
    ahead.set_defaults(run=_forecast)

    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (UserError, ValueError) as problem:  # a busy writer, a locked or missing store…
        print(f"error: {problem}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
