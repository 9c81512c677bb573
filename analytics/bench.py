"""The benchmark harness: median latency of each query a page runs, against a floor.

The floor is a bare full scan of order_lines (sum of one column): what any query touching
every line would cost at least. Each query's ratio to the floor shows how much the rollups
and date ordering save.
"""

from __future__ import annotations

import dataclasses
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

from analytics import (
    awaiting,
    bridge,
    catalog,
    db,
    demo,
    fx,
    markets,
    overview,
    periods,
    pricing,
    quality,
    review,
    store,
)
from analytics.crm import activity, attainment, changes, deals, forecast, rep
from analytics.crm import scope as crm_scope
from analytics.filters import Filters, comparison_period, resolve_period

BENCH_DIR = Path(__file__).resolve().parent.parent / "benchmarks"


def _median_ms(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm up: the first call pays for reading pages from disk
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def scenarios(cur: duckdb.DuckDBPyConnection) -> dict[str, Filters]:
    """The filter settings measured: the page's default and two heavier ones."""
    last = catalog.load(cur).last_date
    quarter = resolve_period("last_quarter", last)
    l12m = resolve_period("l12m", last)
    return {
        "default (last quarter, EUR, reported)": Filters(
            quarter, comparison_period("last_quarter", quarter)
        ),
        "L12M, USD, constant currency": Filters(
            l12m, comparison_period("l12m", l12m), currency="USD", basis="constant"
        ),
        "L12M, GBP, Western Europe + Sensors": Filters(
            l12m,
            comparison_period("l12m", l12m),
            regions=("Western Europe",),
            product_lines=("Sensors",),
            currency="GBP",
        ),
    }


def overview_queries(cur: duckdb.DuckDBPyConnection, filters: Filters) -> None:
    """Every query an uncached Overview rerun runs, in the page's order."""
    overview.check_rates(cur, filters)
    overview.figures(cur, filters)
    overview.monthly_revenue_by_region(cur, filters)


def markets_queries(cur: duckdb.DuckDBPyConnection, filters: Filters) -> dict[str, Callable]:
    """The queries of the Markets page at its top level, each timed on its own.

    The scorecard runs three: the revenue scan, the order and customer counts (two
    statements) and the market estimates.
    """
    drilled = dataclasses.replace(filters, regions=("Western Europe",))
    return {
        "markets.check_rates": lambda: markets.check_rates(cur, filters),
        "scorecard: sales scan (regions and countries)": lambda: markets._scorecard_sales(
            cur, filters
        ),
        "scorecard: sales scan (a region's countries)": lambda: markets._scorecard_sales(
            cur, drilled
        ),
        "scorecard: orders + active customers": lambda: markets._counts(cur, filters),
        "scorecard: addressable market": lambda: markets._addressable_market(cur, filters),
        "mix (product line x channel)": lambda: markets.mix(cur, filters, "region"),
        "products_sold": lambda: markets.products_sold(cur, filters),
        "price_position": lambda: markets.price_position(cur, filters, "P017"),
        "top_accounts": lambda: markets.top_accounts(cur, filters, 25),
        "global_accounts": lambda: markets.global_accounts(cur, filters),
        "all Markets queries (top level)": lambda: markets_page(cur, filters),
    }


def review_queries(cur: duckdb.DuckDBPyConnection, filters: Filters) -> dict[str, Callable]:
    """The Quarterly review's queries for the last full quarter vs the prior one, under the
    scenario's currency and dimension filters (the page picks its own quarter)."""
    first, last = db.query_rows(cur, "SELECT min(order_date), max(order_date) FROM sales_daily")[0]
    quarter = periods.full_quarters(first, last)[0]
    scope = dataclasses.replace(
        filters, period=quarter, comparison=review.base_period(quarter, "prior_quarter")
    )
    return {
        "review: bridge items (quarter vs prior)": lambda: bridge.bridge_items(
            cur,
            (scope.comparison.start, scope.comparison.end),
            (quarter.start, quarter.end),
            scope.currency,
            scope,
        ),
        "review: regional scorecard + budget + quota": lambda: review.region_scorecard(
            cur, scope, "prior_quarter"
        ),
        # The page's (and the exports') call: the largest gains and losses picked in the
        # query. Every account's row (40k at 10M lines) is only the tests' definition.
        "review: account movers (top gains and losses)": lambda: review.account_movers(
            cur, scope, top=review.MOVERS_SHOWN
        ),
        "review: next quarter pipeline": lambda: review.next_quarter_pipeline(cur, scope),
        "review: whole review (all of the above)": lambda: review.build(
            cur, quarter, "prior_quarter", filters
        ),
    }


def pricing_queries(cur: duckdb.DuckDBPyConnection) -> dict[str, Callable]:
    """The Pricing lab: a scenario over the last 12 months, and the Monte Carlo of the issue's
    size (20 currencies x 10,000 paths at a 90-day horizon, two years of history) as the
    page runs it (pricing.margin_at_risk)."""
    last = catalog.load(cur).last_date
    l12m = resolve_period("l12m", last)
    scenario = pricing.Scenario(
        countries=("US", "GB", "CH", "JP", "CN", "TR"),
        baseline_start=l12m.start,
        baseline_end=l12m.end,
        currency="USD",
        shocks={"USD": -0.1, "GBP": -0.05, "TRY": -0.3},
    )
    currencies = [
        code
        for (code,) in db.query_rows(
            cur,
            "SELECT currency_code FROM fx_rates WHERE rate_date = (SELECT max(rate_date) "
            "FROM fx_rates) ORDER BY currency_code LIMIT 20",
        )
    ]
    rates_end = fx.rate_status(cur).last_date
    returns = pricing.log_returns(cur, currencies, rates_end, 730)
    results, _ = pricing.run(cur, scenario)
    spots = pricing.spot_rates(cur, set(currencies) | set(results["currency_code"]) | {"USD"})
    return {
        "pricing: scenario run (6 markets, L12M)": lambda: pricing.run(cur, scenario),
        "pricing: simulate 20 currencies x 10,000 paths at 90 days": lambda: (
            pricing.horizon_multipliers(returns, 90, 10_000, 1)
        ),
        "pricing: margin at risk (the above + margins + fan)": lambda: pricing.margin_at_risk(
            results, scenario, spots, returns, 90, 10_000, 1
        ),
    }


def team_queries(cur: duckdb.DuckDBPyConnection, filters: Filters) -> dict[str, Callable]:
    """What each Team & pipeline view computes, at its defaults: the last full quarter, the
    pipeline-change waterfall over the last eight weekly snapshots, the tenth rep."""
    first, last = db.query_rows(cur, "SELECT min(order_date), max(order_date) FROM sales_daily")[0]
    quarter = periods.full_quarters(first, last)[0]
    scope = crm_scope.Scope.from_filters(filters)
    dates = crm_scope.snapshot_dates(cur)
    target = periods.quarter(dates[-1])
    rep_id = crm_scope.reps(cur, crm_scope.Scope()).iloc[9]["rep_id"]
    return {
        "team: attainment view (leaderboard, YTD, 8-quarter trend)": lambda: (
            attainment.attainment_view(cur, quarter, scope)
        ),
        "team: pipeline view (deals, stats, funnels, stuck)": lambda: deals.pipeline_view(
            cur, scope
        ),
        "team: pipeline changes (8 weeks)": lambda: changes.pipeline_changes(
            cur, dates[max(0, len(dates) - 9)], dates[-1], target, scope
        ),
        "team: forecast view (+ accuracy, 8 quarters)": lambda: forecast.forecast_view(
            cur, quarter, scope
        ),
        "team: activity vs impact per account": lambda: activity.activity_impact(
            cur, quarter, scope, "account"
        ),
        "team: rep view": lambda: rep.rep_view(cur, quarter, scope, rep_id),
    }


def data_queries(cur: duckdb.DuckDBPyConnection) -> dict[str, Callable]:
    """The Data page's quality summary (ui.cache.data_quality), each part and the whole."""

    def summary() -> None:
        quality.coverage(cur)
        quality.unconverted_lines(cur)
        awaiting.summary(cur)
        quality.orphans(cur)
        quality.import_history(cur)
        fx.rate_status(cur)

    return {
        "data: coverage": lambda: quality.coverage(cur),
        "data: lines without a rate": lambda: quality.unconverted_lines(cur),
        "data: orphans": lambda: quality.orphans(cur),
        "data: quality summary (all of the page's figures)": summary,
    }


def forecast_queries(cur: duckdb.DuckDBPyConnection) -> dict[str, Callable]:
    """The Forecast page's reads (not its model fits, which follow the number of series and
    months, not the lines): every monthly series as of the last sale, the budgets a landing
    compares with, the currency shown and the pipeline projection at the latest snapshot."""
    from analytics.forecast import figures as fc_figures
    from analytics.forecast import landing, projection, series

    as_of = catalog.load(cur).last_date
    snapshot = crm_scope.latest_snapshot(cur)

    def monthly_series() -> None:
        series.monthly_series(cur, series.observation_window(cur, as_of))

    return {
        "forecast: monthly series (every level)": monthly_series,
        "forecast: budgets of the year (region)": lambda: landing.budgets(
            cur, as_of.year, "region"
        ),
        "forecast: shown in USD": lambda: fc_figures.shown_in(cur, "USD", as_of),
        "forecast: pipeline projection": lambda: projection.project(
            cur, snapshot, crm_scope.Scope()
        ),
    }


def markets_page(cur: duckdb.DuckDBPyConnection, filters: Filters) -> None:
    """Every query an uncached Markets rerun at the top level runs (its detail section shows
    top accounts by default; price position and global accounts run when chosen)."""
    markets.check_rates(cur, filters)
    cards = markets.scorecards(cur, filters)
    markets.market_opportunity(cards["country"], markets.reporting_rate(cur, filters))
    markets.mix(cur, filters, "region")
    markets.top_accounts(cur, filters, 25)  # the default detail section


def page_queries(
    cur: duckdb.DuckDBPyConnection, repeats: int = 15
) -> list[tuple[str, str, Callable[[], object], int]]:
    """Every page query timed: (scenario, query, the call, how many runs its median takes)."""
    timed = [("Pricing lab", label, fn, repeats) for label, fn in pricing_queries(cur).items()]
    timed += [("Data page", label, fn, repeats) for label, fn in data_queries(cur).items()]
    timed += [("Forecast", label, fn, repeats) for label, fn in forecast_queries(cur).items()]
    for name, filters in scenarios(cur).items():
        queries = (
            {
                "check_rates": lambda f=filters: overview.check_rates(cur, f),
                "sales_by (KPI totals)": lambda f=filters: overview.sales_by(cur, f),
                "order_counts": lambda f=filters: overview.order_counts(cur, f),
                "active_customers": lambda f=filters: overview.active_customers(cur, f),
                "monthly_revenue_by_region": lambda f=filters: overview.monthly_revenue_by_region(
                    cur, f
                ),
                "revenue_by_country": lambda f=filters: overview.revenue_by_country(cur, f),
                "figures (KPI row + revenue by country, one statement)": lambda f=filters: (
                    overview.figures(cur, f)
                ),
                "all Overview queries": lambda f=filters: overview_queries(cur, f),
                "revenue_bridge (period vs comparison)": lambda f=filters: bridge.revenue_bridge(
                    cur,
                    (f.comparison.start, f.comparison.end),
                    (f.period.start, f.period.end),
                    f.currency,
                    f,
                ),
            }
            | markets_queries(cur, filters)
            | review_queries(cur, filters)
            | team_queries(cur, filters)
        )
        timed += [(name, label, fn, repeats) for label, fn in queries.items()]
    return timed


def floor_ms(cur: duckdb.DuckDBPyConnection, repeats: int = 15) -> float:
    """The floor: median ms of a bare full scan of order_lines (the sum of one column)."""
    return _median_ms(
        lambda: db.query_rows(cur, "SELECT sum(net_amount_eur) FROM order_lines"), repeats
    )


def run(rows: int, repeats: int = 15, db_path: Path | None = None, seed: int = 42) -> list[dict]:
    """Build (or reuse) a database of `rows` order lines and time every page query."""
    path = db_path or BENCH_DIR / f"bench_{rows}.duckdb"
    if not path.exists():
        print(f"Building {path} with {rows:,} order lines…", flush=True)
        started = time.perf_counter()
        demo.build_database(path, rows=rows, seed=seed)
        print(f"Built in {time.perf_counter() - started:.1f} s", flush=True)
    elif store.upgrade(path):
        print(f"Upgraded {path} to this version's schema", flush=True)
    con = db.connect(path, read_only=True)
    cur = con.cursor()
    actual = db.query_rows(cur, "SELECT count(*) FROM order_lines")[0][0]
    floor = floor_ms(cur, repeats)
    results = [{"scenario": "floor", "query": "full scan of order_lines", "median_ms": floor}]
    for name, label, fn, runs in page_queries(cur, repeats):
        results.append({"scenario": name, "query": label, "median_ms": _median_ms(fn, runs)})
    con.close()
    for row in results:
        row["ratio_to_floor"] = row["median_ms"] / floor
    print(f"\n{actual:,} order lines, median of {repeats} runs\n")
    print("| scenario | query | median ms | x floor |\n|---|---|---:|---:|")
    for row in results:
        print(
            f"| {row['scenario']} | {row['query']} | {row['median_ms']:.1f} | {row['ratio_to_floor']:.2f} |"
        )
    return results
