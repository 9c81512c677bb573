"""The store connection and cached wrappers over analytics calls.

The app holds one read-only connection per database file (st.cache_resource) and gives
every call its own cursor, because a DuckDB connection refuses concurrent calls from the
reruns of several sessions. Results are cached per (database version, filters).
"""

from __future__ import annotations

import os
import uuid
from contextlib import contextmanager

import duckdb
import pandas as pd
import streamlit as st

from analytics import catalog, db, demo, markets, overview, review
from analytics.filters import Filters, Period

CACHE_TTL_S = 3600


def database_version() -> str:
    """The store's path and modification time: a rebuilt file gets fresh caches."""
    path = db.database_path()
    return f"{path}@{path.stat().st_mtime_ns}"


def ensure_store() -> None:
    """Build the demo database on first start, with a visible progress bar."""
    path = db.database_path()
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    bar = st.progress(0.0, text="First start: building the demo company's database…")
    # Build under a temporary name and rename, so a half-built file is never opened and
    # two sessions starting at once cannot corrupt each other's build.
    building = path.with_name(f".{path.name}.{uuid.uuid4().hex}.building")
    try:
        demo.build_database(
            building, progress=lambda done, message: bar.progress(done, text=message)
        )
        if not path.exists():
            os.replace(building, path)
    finally:
        building.unlink(missing_ok=True)
    bar.empty()


@st.cache_resource(max_entries=1)
def _connection(version: str) -> duckdb.DuckDBPyConnection:
    return db.connect(version.rsplit("@", 1)[0], read_only=True)


@contextmanager
def cursor():
    """A cursor of its own for one call, on the shared read-only connection."""
    cur = _connection(database_version()).cursor()
    try:
        yield cur
    finally:
        cur.close()


@st.cache_data(ttl=CACHE_TTL_S, max_entries=8, show_spinner=False)
def load_catalog(version: str) -> catalog.Catalog:
    with cursor() as cur:
        return catalog.load(cur)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=64, show_spinner=False)
def overview_figures(version: str, filters: Filters) -> dict[str, pd.DataFrame]:
    """Everything the Overview shows for one set of filters (raises RateUnavailable)."""
    with cursor() as cur:
        overview.check_rates(cur, filters)
        return {
            "kpis": overview.kpis(cur, filters),
            "trend": overview.monthly_revenue_by_region(cur, filters),
            "countries": overview.revenue_by_country(cur, filters),
        }


MARKETS_QUERIES = {
    "check_rates": markets.check_rates,
    "scorecards": markets.scorecards,
    "reporting_rate": markets.reporting_rate,
    "mix": markets.mix,
    "top_accounts": markets.top_accounts,
    "global_accounts": markets.global_accounts,
    "price_position": markets.price_position,
    "products_sold": markets.products_sold,
}


@st.cache_data(ttl=CACHE_TTL_S, max_entries=256, show_spinner=False)
def markets_data(version: str, query: str, filters: Filters, *args):
    """One Markets query (by name, from MARKETS_QUERIES) for one set of filters, cached."""
    with cursor() as cur:
        return MARKETS_QUERIES[query](cur, filters, *args)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=32, show_spinner="Building the quarterly review…")
def quarterly_review(version: str, quarter: Period, vs: str, filters: Filters) -> review.Review:
    """The whole quarterly review for one quarter, comparison and set of filters."""
    with cursor() as cur:
        return review.build(cur, quarter, vs, filters)
