"""Time whole page reruns of the real app with AppTest, caches cleared before each rerun.

Usage: python benchmarks/page_rerun.py DB_PATH [--repeats N]

A rerun here is everything the server does for one interaction: the script, every query
(nothing cached), every figure built and serialised. The browser's drawing is not included.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Settings are given as the app's URL query parameters. Each timed run is a fresh session
# opened on that link, so it executes app.py (catalog, sidebar) and the page in full; a
# plain AppTest rerun of an st.navigation app would execute the page script alone.
SETTINGS = {
    "default (last quarter, EUR, reported)": {},
    "L12M, USD, constant currency": {"period": "l12m", "currency": "USD", "basis": "constant"},
    "L12M, GBP, Western Europe + Sensors": {
        "period": "l12m",
        "currency": "GBP",
        "region": "Western Europe",
        "line": "Sensors",
    },
}
REVIEW_SETTINGS = {
    "default (last quarter vs prior, EUR)": {},
    "vs budget, USD": {"vs": "budget", "currency": "USD"},
    "vs budget, USD, at plan rates": {"vs": "budget", "currency": "USD", "basis": "plan"},
    "vs last year, GBP, Western Europe + Sensors": {
        "vs": "last_year",
        "currency": "GBP",
        "region": "Western Europe",
        "line": "Sensors",
    },
    "presentation mode, bridge slide": {"present": "1", "slide": "2"},
}
TEAM_SETTINGS = {
    view: {"t_view": view}
    for view in (
        "Attainment",
        "Pipeline",
        "Pipeline changes",
        "Forecast",
        "Activity vs impact",
        "Rep view",
    )
} | {
    "Pipeline, USD, Western Europe": {
        "t_view": "Pipeline",
        "currency": "USD",
        "region": "Western Europe",
    }
}
# The store's forecast is an st.cache_resource (once per store version), so "uncached" here
# recomputes the landings, rates and track record around it, not the forecast itself.
FORECAST_SETTINGS = {
    "Forecast, total, EUR": {},
    "Forecast, region Americas, USD": {
        "fc_level": "region",
        "fc_series": "Americas",
        "currency": "USD",
    },
    "Year-end landing": {"fc_view": "Year-end landing"},
    "Pipeline projection": {"fc_view": "Pipeline projection"},
    "Web channel": {"fc_view": "Web channel"},
}
# page -> (page script, None for the default page; its settings)
PAGES = {
    "Overview": (None, SETTINGS),
    "Markets": ("views/markets.py", SETTINGS),
    "Quarterly review": ("views/review.py", REVIEW_SETTINGS),
    "Pricing lab": ("views/pricing.py", {"default scenario (6 markets, L12M, no shock)": {}}),
    "Team & pipeline": ("views/team.py", TEAM_SETTINGS),
    "Forecast": ("views/forecast.py", FORECAST_SETTINGS),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db")
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--pages", nargs="*", choices=list(PAGES), help="default: every page")
    args = parser.parse_args()
    os.environ["SALES_ATLAS_DB"] = str(Path(args.db).resolve())

    import streamlit as st
    from streamlit import logger
    from streamlit.testing.v1 import AppTest

    logger.set_log_level("error")  # silence the notice each cache clear prints

    print("| page | settings | median rerun ms (uncached) | median rerun ms (cached) |")
    print("|---|---|---:|---:|")

    def open_view(page_path: str | None, params: dict[str, str]) -> float:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        for key, value in params.items():
            at.query_params[key] = value
        started = time.perf_counter()
        at.run()
        elapsed = (time.perf_counter() - started) * 1000
        if page_path is not None:
            at.switch_page(page_path)
            started = time.perf_counter()
            at.run()
            elapsed = (time.perf_counter() - started) * 1000
        assert not at.exception, [e.value for e in at.exception]
        assert not at.error, [e.value for e in at.error]
        return elapsed

    only = set(args.pages or PAGES)
    for page_name, (page_path, settings) in PAGES.items():
        if page_name not in only:
            continue
        for label, params in settings.items():
            open_view(page_path, params)  # warm the connection and the imports
            uncached, cached = [], []
            for _ in range(args.repeats):
                st.cache_data.clear()
                uncached.append(open_view(page_path, params))
                cached.append(open_view(page_path, params))
            print(
                f"| {page_name} | {label} | {statistics.median(uncached):.0f} "
                f"| {statistics.median(cached):.0f} |"
            )

    if "Pricing lab" in only:
        # A scenario lives in widgets, not in the link: set one, then time the page's reruns.
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
        at.switch_page("views/pricing.py").run()
        at.number_input(key="p_shock_USD").set_value(-10.0)
        at.number_input(key="p_shock_TRY").set_value(-30.0)
        at.number_input(key="p_pt").set_value(25.0).run()
        assert not at.exception and not at.error
        uncached, cached = [], []
        for _ in range(args.repeats):
            st.cache_data.clear()
            started = time.perf_counter()
            at.run()
            uncached.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            at.run()
            cached.append((time.perf_counter() - started) * 1000)
        print(
            "| Pricing lab | USD -10 %, TRY -30 %, 25 % pass-through (page script rerun) "
            f"| {statistics.median(uncached):.0f} | {statistics.median(cached):.0f} |"
        )


if __name__ == "__main__":
    main()
